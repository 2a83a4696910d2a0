import type { MessageHandler } from '@app/broker';
import type { StatisticsRepository } from '../../data-access/statistics.repository';
import { takeOutOrder } from '../../domain/take-out-order.use-case';

const said = {
  'taken-out': 'cancelled order taken out of revenue and items',
  'not-counted-yet': 'order cancelled before it was counted: it will count as cancelled',
  'already-cancelled': 'order already cancelled: nothing changed',
  duplicate: 'cancellation already handled',
} as const;

/** Event style: compensation. Order cancelled an order, so its revenue leaves the totals. */
export const orderCancelledHandler =
  (statistics: StatisticsRepository): MessageHandler<'OrderCancelled'> =>
  async (message) => {
    const outcome = await takeOutOrder(statistics.for(message), message.payload);
    message.logger.info({ outcome, reason: message.payload.reason }, said[outcome]);
    return outcome === 'taken-out' || outcome === 'not-counted-yet' ? 'processed' : 'duplicate';
  };
