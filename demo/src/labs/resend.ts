import amqplib from 'amqplib';
import { toPublishOptions, type OutgoingProperties } from '@app/broker';
import type { LabTarget } from './lab';

/**
 * Lab 5: the NewOrder of `orderId` published again exactly as Order's relay published it
 * (its outbox row: same message id, same properties), as Order's own broker user at
 * `brokerUrl`. The broker delivers it again to every subscriber, whose inboxes should
 * absorb it. Returns its message id, or undefined when the order has no NewOrder.
 */
export async function resendNewOrder(
  target: LabTarget,
  brokerUrl: string,
  orderId: string,
): Promise<string | undefined> {
  const [row] = await target.query<{
    exchange: string;
    routing_key: string;
    payload: unknown;
    properties: OutgoingProperties;
  }>(
    'order',
    `SELECT exchange, routing_key, payload, properties FROM outbox_messages
      WHERE type = 'NewOrder' AND payload->>'orderId' = $1`,
    [orderId],
  );
  if (!row) return undefined;
  const connection = await amqplib.connect(brokerUrl);
  try {
    const channel = await connection.createConfirmChannel();
    channel.publish(
      row.exchange,
      row.routing_key,
      Buffer.from(JSON.stringify(row.payload)),
      toPublishOptions(row.properties, decodeURIComponent(new URL(brokerUrl).username)),
    );
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
  return row.properties.messageId;
}
