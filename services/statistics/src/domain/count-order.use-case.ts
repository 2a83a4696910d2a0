import type { Envelope, NewOrder } from '@app/contracts';
import type { HandlerOutcome } from '@app/messaging';
import type { StatisticsRepository } from '../data-access/statistics.repository';
import { contributionOf } from './statistics';

/** Counts a placed order, once, however often its `NewOrder` arrives. */
export function countOrder(
  statistics: StatisticsRepository,
  consumer: string,
  cause: Envelope,
  order: NewOrder,
): Promise<HandlerOutcome> {
  return statistics.addOnce(
    { consumer, messageId: cause.messageId, type: cause.type },
    contributionOf(order),
  );
}
