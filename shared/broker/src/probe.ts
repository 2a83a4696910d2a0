import type { ChannelModel, ConfirmChannel } from 'amqplib';

/**
 * Runs `work` on a channel of its own, closed afterwards. A declaration or check the broker
 * refuses closes its channel, and amqp-connection-manager reopens a closed channel only
 * after a reconnect, so such calls never go over a channel that carries deliveries.
 */
export async function onProbeChannel<T>(
  connection: ChannelModel | undefined,
  work: (channel: ConfirmChannel) => Promise<T>,
): Promise<T> {
  if (!connection) throw new Error('not connected');
  const probe = await connection.createConfirmChannel();
  probe.on('error', () => undefined);
  try {
    return await work(probe);
  } finally {
    await probe.close().catch(() => undefined);
  }
}
