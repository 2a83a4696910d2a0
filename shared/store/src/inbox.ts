import type { InboxRef } from '@app/broker';
import type { SqlClient } from './sql';

/**
 * Records that `inbox.consumer` handled `inbox.messageId`, inside the transaction of the
 * effect. Returns false when it was handled before: the caller skips the effect and the
 * delivery is acknowledged, so a redelivered or duplicated message has one effect.
 */
export async function claimInbox(tx: SqlClient, inbox: InboxRef): Promise<boolean> {
  const inserted = await tx.$executeRawUnsafe(
    `INSERT INTO inbox_messages (consumer, message_id, type) VALUES ($1, $2::uuid, $3)
     ON CONFLICT DO NOTHING`,
    inbox.consumer,
    inbox.messageId,
    inbox.type,
  );
  return inserted === 1;
}
