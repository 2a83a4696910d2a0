import { Router } from 'express';
import { z } from 'zod';
import { ResourceIdSchema } from '@app/contracts';
import { AppError, parseInput } from '@app/http';
import type { PointsRepository } from '../../data-access/points.repository';
import type { OrderPoints } from '../../domain/points';

const CustomerQuerySchema = z.object({ customerId: z.string().trim().min(1).max(200) });

export function pointsRouter(points: PointsRepository): Router {
  const router = Router();

  router.get('/__name__/points', async (req, res) => {
    const { customerId } = parseInput(CustomerQuerySchema, req.query, 'query');
    res.json(await points.ofCustomer(customerId));
  });

  router.get('/__name__/orders/:orderId', async (req, res) => {
    const id = ResourceIdSchema.safeParse(req.params.orderId);
    const recorded = id.success ? await points.ofOrder(id.data) : undefined;
    if (!recorded)
      throw AppError.notFound(
        '__NAME__.ORDER_NOT_FOUND',
        `No points recorded for order ${req.params.orderId}.`,
      );
    res.json(present(recorded));
  });

  return router;
}

function present(recorded: OrderPoints): Record<string, unknown> {
  return { ...recorded, placedAt: recorded.placedAt.toISOString() };
}
