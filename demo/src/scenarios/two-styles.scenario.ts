import { request, waitFor } from '@app/testing';
import { Books, placeOrders, type Style } from '../orders';
import { check, type Scenario } from '../scenario';
import {
  buildTrail,
  expectedSteps,
  formatTrail,
  handledBy,
  trailMismatches,
  type ExpectedStep,
  type TrailStep,
} from '../trail';
import { TrailSpy } from '../trail-spy';

/** What each style's trail must show: message types and the queues that handled them. */
export const EXPECTED_TRAILS: Record<Style, ExpectedStep[]> = {
  event: expectedSteps(['NewOrder', 'AuthorizationAccepted', 'InvoiceIssued', 'ShipmentPrepared']),
  command: expectedSteps([
    'AuthorizePayment',
    'PaymentAuthorized',
    'CreateInvoice',
    'ShipOrder',
    'InvoiceCreated',
    'ShipmentCreated',
  ]),
};

/**
 * The differences between the expected and the actual trail, as readable sentences
 * (empty when the trail shows everything it should). Order within a style may vary:
 * Invoicing and Shipping work in parallel.
 */
export const trailProblems = (style: Style, steps: TrailStep[]): string[] =>
  trailMismatches(EXPECTED_TRAILS[style], steps);

export const twoStyles: Scenario = {
  id: 'two-styles',
  title: 'Two styles',
  summary: 'one order per style, their message trails; Statistics sees only the event',
  shows:
    'One order as an event (Order announces NewOrder, each subscriber decides) and one as commands ' +
    '(Order tells Payment, Invoicing and Shipping what to do, they reply). Statistics subscribes to NewOrder, ' +
    'so it sees only the event-style order.',
  async run({ system, progress, say }) {
    await system.ensureRunning();
    const books = new Books(system);
    const spy = await TrailSpy.open(system.vhost.url);
    const statisticsUrl = `${system.url('statistics')}/statistics`;
    try {
      const before = (await request(statisticsUrl)).body.orders as number;
      const start = Date.now();
      progress.update('placing one order in each style ...');
      const [eventId = ''] = await placeOrders(system.url('order'), 1, { style: 'event' });
      const [commandId = ''] = await placeOrders(system.url('order'), 1, { style: 'command' });
      const ids = { event: eventId, command: commandId };
      const trailOf = (style: Style): TrailStep[] =>
        buildTrail(ids[style], spy.seen, handledBy(system.processes));
      const settled = (style: Style): boolean => trailProblems(style, trailOf(style)).length === 0;
      await waitFor(
        'both orders to complete and their trails to be whole',
        async () => {
          const statuses = await books.statuses([eventId, commandId]);
          progress.update(
            `waiting for both orders: event ${trailOf('event').length} messages, ` +
              `command ${trailOf('command').length} messages, ${statuses.COMPLETED ?? 0}/2 completed`,
          );
          return statuses.COMPLETED === 2 && settled('event') && settled('command');
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      ).catch(() => undefined);
      progress.done();

      const details = [];
      const finals: string[] = [];
      const checks = [];
      for (const style of ['event', 'command'] as const) {
        const id = ids[style];
        const steps = trailOf(style);
        const lines = formatTrail(steps, start);
        say(`  ${style} style, correlation id ${id}:`);
        for (const line of lines) say(`  ${line}`);
        details.push({ title: `Message trail, ${style} style (correlation id ${id})`, lines });
        const order = (await request(`${system.url('order')}/orders/${id}`)).body;
        const invoices = await books.tally('invoices', [id]);
        const shipments = await books.tally('shipments', [id]);
        const counted = await books.tally('counted', [id]);
        finals.push(
          `${style.padEnd(7)}  order ${id.slice(0, 8)}  ${String(order.status).padEnd(9)}  ` +
            `invoices ${invoices.rows}  shipments ${shipments.rows}  ` +
            `counted by Statistics: ${counted.rows > 0 ? 'yes' : 'no'}`,
        );
        checks.push(
          check(
            `${style}-style order COMPLETED with one invoice and one shipment`,
            order.status === 'COMPLETED' && invoices.rows === 1 && shipments.rows === 1,
            `${order.status}, ${invoices.rows} invoice(s), ${shipments.rows} shipment(s)`,
          ),
        );
        const problems = trailProblems(style, steps);
        checks.push(
          check(
            style === 'event'
              ? 'event trail: NewOrder on order.events, handled by Invoicing, Payment, Shipping and Statistics; outcome events back to Order'
              : 'command trail: AuthorizePayment, CreateInvoice and ShipOrder to each recipient’s command exchange; replies on order.replies',
            problems.length === 0,
            problems.length > 0 ? problems.join('; ') : `${steps.length} messages`,
          ),
        );
      }
      const statistics = (await request(statisticsUrl)).body;
      const countedEvent = await books.tally('counted', [eventId]);
      const countedCommand = await books.tally('counted', [commandId]);
      say('  final states:');
      for (const line of finals) say(`    ${line}`);
      say(
        `  GET /statistics: orders ${statistics.orders} (was ${before}), revenueCents ${statistics.revenueCents}`,
      );
      details.push({ title: 'Final states', lines: finals });
      checks.push(
        check(
          'Statistics counted the event-style order and not the command-style one',
          countedEvent.rows === 1 && countedCommand.rows === 0 && statistics.orders - before === 1,
          `GET /statistics orders ${before} -> ${statistics.orders}`,
        ),
      );
      const eventSteps = trailOf('event').length;
      const commandSteps = trailOf('command').length;
      return {
        headline: `event: ${eventSteps} messages, command: ${commandSteps}; Statistics counted ${statistics.orders - before} of 2`,
        figures: [
          {
            label: 'event style: messages / deliveries',
            value: `${eventSteps} / ${deliveries(trailOf('event'))}`,
          },
          {
            label: 'command style: messages / deliveries',
            value: `${commandSteps} / ${deliveries(trailOf('command'))}`,
          },
          { label: 'orders counted by Statistics', value: `${statistics.orders - before} of 2` },
        ],
        checks,
        details,
      };
    } finally {
      await spy.close();
    }
  },
};

const deliveries = (steps: TrailStep[]): number =>
  steps.reduce((sum, step) => sum + step.deliveries.length, 0);
