import { Router } from 'express';
import { ByOrderListQuerySchema, ResourceIdSchema } from '@app/contracts';
import { AppError, parseInput } from '@app/http';
import type { ShipmentRepository } from '../../data-access/shipment.repository';
import type { Shipment } from '../../domain/shipment';

export function shipmentsRouter(shipments: ShipmentRepository): Router {
  const router = Router();

  router.get('/shipments', async (req, res) => {
    const query = parseInput(ByOrderListQuerySchema, req.query, 'query');
    res.json((await shipments.list(query)).map(present));
  });

  router.get('/shipments/:id', async (req, res) => {
    const id = ResourceIdSchema.safeParse(req.params.id);
    const shipment = id.success ? await shipments.findById(id.data) : undefined;
    if (!shipment)
      throw AppError.notFound('SHIPMENT.NOT_FOUND', `Shipment ${req.params.id} does not exist.`);
    res.json(present(shipment));
  });

  return router;
}

function present(shipment: Shipment): Record<string, unknown> {
  return { ...shipment, createdAt: shipment.createdAt.toISOString() };
}
