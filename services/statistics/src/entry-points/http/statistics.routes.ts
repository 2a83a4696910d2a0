import { Router } from 'express';
import type { StatisticsRepository } from '../../data-access/statistics.repository';
import { summarize } from '../../domain/statistics';

export function statisticsRouter(statistics: StatisticsRepository): Router {
  const router = Router();

  router.get('/statistics', async (_req, res) => {
    const summary = summarize(await statistics.totals());
    res.json({
      orders: summary.orders,
      cancelledOrders: summary.cancelledOrders,
      revenueCents: summary.revenueCents,
      itemsSold: summary.itemsSold,
      lastOrderAt: summary.lastOrderAt?.toISOString() ?? null,
      byCurrency: summary.byCurrency.map((totals) => ({
        ...totals,
        lastOrderAt: totals.lastOrderAt.toISOString(),
      })),
      source: 'NewOrder and OrderCancelled events',
      note: 'Counts orders announced with the NewOrder event only; cancelledOrders counts those cancelled since (OrderCancelled), whose revenue and items are left out; revenueCents adds up all currencies, byCurrency splits them.',
    });
  });

  return router;
}
