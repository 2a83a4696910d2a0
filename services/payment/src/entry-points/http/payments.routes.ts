import { Router } from 'express';
import { ByOrderListQuerySchema, ResourceIdSchema } from '@app/contracts';
import { AppError, parseInput } from '@app/http';
import type { PaymentRepository } from '../../data-access/payment.repository';
import type { Payment } from '../../domain/payment';

export function paymentsRouter(payments: PaymentRepository): Router {
  const router = Router();

  router.get('/payments', async (req, res) => {
    const query = parseInput(ByOrderListQuerySchema, req.query, 'query');
    res.json((await payments.list(query)).map(present));
  });

  router.get('/payments/:id', async (req, res) => {
    const id = ResourceIdSchema.safeParse(req.params.id);
    const payment = id.success ? await payments.findById(id.data) : undefined;
    if (!payment)
      throw AppError.notFound('PAYMENT.NOT_FOUND', `Payment ${req.params.id} does not exist.`);
    res.json(present(payment));
  });

  return router;
}

function present(payment: Payment): Record<string, unknown> {
  return { ...payment, createdAt: payment.createdAt.toISOString() };
}
