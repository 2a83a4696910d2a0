import { Router } from 'express';
import {
  IdempotencyKeySchema,
  OrderListQuerySchema,
  PlaceOrderRequestSchema,
  ResourceIdSchema,
} from '@app/contracts';
import { AppError, parseInput } from '@app/http';
import { InvalidCursorError, type OrderRepository } from '../../data-access/order.repository';
import type { Order } from '../../domain/order';
import { placeOrder, type PlaceOrderDeps } from '../../domain/place-order.use-case';
import type { OpenOrdersLimit } from './admission';

export function ordersRouter(
  deps: PlaceOrderDeps & {
    orders: OrderRepository;
    admission: OpenOrdersLimit;
    /** Counts a request answered with the order of an earlier one (same Idempotency-Key). */
    replayed: () => void;
  },
): Router {
  const router = Router();

  router.post('/orders', async (req, res) => {
    // First, before any parsing or database work: under overload a refusal must be cheap.
    const admission = deps.admission.admit();
    let result: Awaited<ReturnType<typeof placeOrder>>;
    try {
      const body = parseInput(PlaceOrderRequestSchema, req.body ?? undefined);
      const key = parseInput(IdempotencyKeySchema, req.get('idempotency-key'), 'Idempotency-Key');
      result = await placeOrder(deps, body, key);
    } catch (err) {
      admission.settle(false);
      throw err;
    }
    admission.settle(result.kind === 'placed');
    if (result.kind === 'replayed') deps.replayed();
    switch (result.kind) {
      case 'key-reused':
        throw new AppError(
          'ORDER.IDEMPOTENCY_KEY_REUSED',
          422,
          'This Idempotency-Key was used with a different request body.',
        );
      case 'total-too-large':
        throw AppError.validation(
          [
            {
              field: 'items',
              message: `order total ${result.totalCents} exceeds 2147483647 cents`,
            },
          ],
          'The order total is too large.',
        );
      case 'placed':
      case 'replayed':
        res.locals.logger.info(
          {
            correlationId: result.order.id,
            style: result.order.style,
            replayed: result.kind === 'replayed',
          },
          result.kind === 'placed' ? 'order placed' : 'order request replayed',
        );
        res.status(202).location(`/orders/${result.order.id}`).json(present(result.order));
    }
  });

  router.get('/orders/:id', async (req, res) => {
    const id = ResourceIdSchema.safeParse(req.params.id);
    const order = id.success ? await deps.orders.findById(id.data) : undefined;
    if (!order)
      throw AppError.notFound('ORDER.NOT_FOUND', `Order ${req.params.id} does not exist.`);
    res.json(present(order));
  });

  router.get('/orders', async (req, res) => {
    const query = parseInput(OrderListQuerySchema, req.query, 'query');
    try {
      const page = await deps.orders.list(query.limit, query.cursor);
      res.json({ items: page.orders.map(present), nextCursor: page.nextCursor ?? null });
    } catch (err) {
      if (err instanceof InvalidCursorError) {
        throw AppError.validation([{ field: 'query.cursor', message: err.message }]);
      }
      throw err;
    }
  });

  return router;
}

function present(order: Order): Record<string, unknown> {
  return {
    id: order.id,
    status: order.status,
    style: order.style,
    customerId: order.customerId,
    items: order.items,
    totalCents: order.totalCents,
    currency: order.currency,
    shippingAddress: order.shippingAddress,
    invoiceId: order.invoiceId ?? null,
    shipmentId: order.shipmentId ?? null,
    paymentId: order.paymentId ?? null,
    ...(order.failureReason ? { failureReason: order.failureReason } : {}),
    ...(order.cancellationReason ? { cancellationReason: order.cancellationReason } : {}),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
