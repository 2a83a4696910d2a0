import type { ServiceName } from '@app/contracts';

/**
 * Each service's RabbitMQ permissions (regular expressions over exchange and queue names),
 * the source of infra/rabbitmq/definitions.json (`node scripts/broker-definitions.mjs`).
 * - configure: declare and delete its own exchanges and queues;
 * - write: publish to its own exchanges and to those it may address, bind its own queues,
 *   and `amq.default` to move messages into its own retry and dead-letter queues (those
 *   copies carry its own user id, which its consumers alone accept as their own);
 * - read: consume its own queues and bind them to the exchanges it subscribes to.
 * Shipping, for example, cannot publish to `order.events` nor read Invoicing's queues.
 */
export const BrokerPermissions: Record<
  ServiceName,
  { configure: string; write: string; read: string }
> = {
  order: {
    configure: '^order\\..*',
    write:
      '^(order\\..*|invoicing\\.commands|shipping\\.commands|payment\\.commands|amq\\.default)$',
    read: '^(order\\..*|invoicing\\.events|shipping\\.events|payment\\.events)$',
  },
  invoicing: {
    configure: '^invoicing\\..*',
    write: '^(invoicing\\..*|order\\.replies|amq\\.default)$',
    read: '^(invoicing\\..*|order\\.events)$',
  },
  shipping: {
    configure: '^shipping\\..*',
    write: '^(shipping\\..*|order\\.replies|amq\\.default)$',
    read: '^(shipping\\..*|order\\.events)$',
  },
  statistics: {
    configure: '^statistics\\..*',
    write: '^(statistics\\..*|amq\\.default)$',
    read: '^(statistics\\..*|order\\.events)$',
  },
  payment: {
    configure: '^payment\\..*',
    write: '^(payment\\..*|order\\.replies|amq\\.default)$',
    read: '^(payment\\..*|order\\.events)$',
  },
};
