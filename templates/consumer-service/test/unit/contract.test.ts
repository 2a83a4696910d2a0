import { parseDelivery } from '@app/broker';
import { queuesOf } from '@app/contracts';
import { contractExamples, deliveryOfExample } from '@app/testing';
import { subscriptions } from '../../src/entry-points/messaging/subscriptions';

// The consumer side of the published contract: the queues __Name__ reads are the ones the
// catalog (and so docs/asyncapi.yaml) names, and every example the document gives for a
// message it consumes parses the way a delivery from the broker would. A new queue goes
// into Queues (shared/contracts/src/consumers.ts), then `npm run contracts:generate`.
describe('__name__ against docs/asyncapi.yaml', () => {
  const subscribed = subscriptions({} as never);

  test('when the consumer catalog is read, then it names exactly the queues and message types __name__ subscribes to', () => {
    expect(
      subscribed.map((s) => ({ queue: s.queue, messages: s.handlers.map((h) => h.type) })),
    ).toEqual(queuesOf('__name__').map((q) => ({ queue: q.name, messages: [...q.messages] })));
  });

  const cases = subscribed.flatMap((subscription) =>
    subscription.handlers.flatMap(({ type }) =>
      contractExamples(type).map((example) => ({ subscription, type, example })),
    ),
  );

  test.each(cases.map((c) => [c.example.name, c.subscription.queue, c]))(
    'when the %s example arrives on %s, then it parses to its payload',
    (_name, _queue, { subscription, type, example }) => {
      const parsed = parseDelivery(
        subscription.handlers,
        subscription.queue,
        deliveryOfExample(example),
        '__name__',
      );

      expect(parsed.binding.type).toBe(type);
      expect(parsed.payload).toEqual(example.payload);
    },
  );
});
