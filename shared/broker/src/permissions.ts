import type { ServiceName } from '@app/contracts';

/**
 * Each service's RabbitMQ permissions (regular expressions over exchange and queue names),
 * the source of infra/rabbitmq/definitions.json (`node scripts/broker-definitions.mjs`).
 * - configure: declare and delete its own exchanges and queues;
 * - write: publish to its own exchanges (among them `<service>.retry` and `<service>.dead`,
 *   through which it moves messages between its own queues) and to those it may address,
 *   and bind its own queues. Never `amq.default`, which reaches every queue. No queue is
 *   named like an exchange another service may write (a write permission on a name also
 *   allows binding the queue of that name), so command queues are named after the command
 *   (`invoicing.create-invoice`), not after their exchange (`invoicing.commands`);
 * - read: consume its own queues and bind them to the exchanges it subscribes to; a
 *   subscriber of `order.events` may also consume its history stream `order.events.history`
 *   (history.ts) to backfill, which gives it no way to write, bind, purge or delete it.
 * Shipping, for example, cannot publish to `order.events` nor read Invoicing's queues.
 */
export const BrokerPermissions: Record<
  ServiceName,
  { configure: string; write: string; read: string }
> = {
  order: {
    configure: '^order\\..*',
    write: '^(order\\..*|invoicing\\.commands|shipping\\.commands|payment\\.commands)$',
    read: '^(order\\..*|invoicing\\.events|shipping\\.events|payment\\.events)$',
  },
  invoicing: {
    configure: '^invoicing\\..*',
    write: '^(invoicing\\..*|order\\.replies)$',
    read: '^(invoicing\\..*|order\\.events|order\\.events\\.history)$',
  },
  shipping: {
    configure: '^shipping\\..*',
    write: '^(shipping\\..*|order\\.replies)$',
    read: '^(shipping\\..*|order\\.events|order\\.events\\.history)$',
  },
  statistics: {
    configure: '^statistics\\..*',
    write: '^(statistics\\..*)$',
    read: '^(statistics\\..*|order\\.events|order\\.events\\.history)$',
  },
  payment: {
    configure: '^payment\\..*',
    write: '^(payment\\..*|order\\.replies)$',
    read: '^(payment\\..*|order\\.events|order\\.events\\.history)$',
  },
};
