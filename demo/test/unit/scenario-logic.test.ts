import { Queues } from '@app/contracts';
import { speedUp } from '../../src/scenarios/scale.scenario';
import { trailProblems } from '../../src/scenarios/two-styles.scenario';
import type { TrailStep } from '../../src/trail';

const step = (type: string, exchange: string, queues: string[]): TrailStep => ({
  step: 1,
  at: 0,
  from: 'x',
  exchange,
  routingKey: 'k',
  type,
  messageId: type,
  deliveries: queues.map((queue) => ({ queue, service: queue.split('.')[0] ?? '', at: 0 })),
});

describe('two styles: what a whole trail is', () => {
  // Every subscriber of NewOrder in the catalog, one made by `npm run new-service` included.
  const newOrderQueues = Object.values(Queues)
    .filter((queue) => (queue.messages as readonly string[]).includes('NewOrder'))
    .map((queue) => queue.name);
  const eventTrail = [
    step('NewOrder', 'order.events', newOrderQueues),
    step('AuthorizationAccepted', 'payment.events', ['order.payment-decisions']),
    step('InvoiceIssued', 'invoicing.events', ['order.invoice-issued']),
    step('ShipmentPrepared', 'shipping.events', ['order.shipment-prepared']),
  ];

  test('when the event trail has every message and delivery, then there is no problem', () => {
    expect(trailProblems('event', eventTrail)).toEqual([]);
  });

  test('when a subscriber has not handled NewOrder yet, then the problem names the queues seen', () => {
    const partial = [
      step('NewOrder', 'order.events', ['invoicing.new-order']),
      ...eventTrail.slice(1),
    ];
    expect(trailProblems('event', partial)).toEqual([
      `NewOrder handled from [invoicing.new-order], expected [${[...newOrderQueues].sort().join(', ')}]`,
    ]);
  });

  test('when a command-style order shows an event, then it is reported as unexpected', () => {
    const trail = [
      step('AuthorizePayment', 'payment.commands', [Queues.paymentCommands.name]),
      step('PaymentAuthorized', 'order.replies', [Queues.orderReplies.name]),
      step('CreateInvoice', 'invoicing.commands', [Queues.invoicingCommands.name]),
      step('ShipOrder', 'shipping.commands', [Queues.shippingCommands.name]),
      step('InvoiceCreated', 'order.replies', [Queues.orderReplies.name]),
      step('ShipmentCreated', 'order.replies', [Queues.orderReplies.name]),
      step('NewOrder', 'order.events', []),
    ];
    expect(trailProblems('command', trail)).toEqual(['unexpected NewOrder']);
  });
});

describe('scale: speed-up', () => {
  test('when both rounds have a rate, then the speed-up is the last over the first', () => {
    expect(speedUp([{ rate: 50 }, { rate: 140 }])).toBeCloseTo(2.8);
  });

  test('when a round has no rate, then there is no speed-up', () => {
    expect(speedUp([{ rate: undefined }, { rate: 140 }])).toBeUndefined();
  });
});
