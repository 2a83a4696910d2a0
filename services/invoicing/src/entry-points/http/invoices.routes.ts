import { Router } from 'express';
import { ByOrderListQuerySchema, ResourceIdSchema } from '@app/contracts';
import { AppError, parseInput } from '@app/http';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import type { Invoice } from '../../domain/invoice';

export function invoicesRouter(invoices: InvoiceRepository): Router {
  const router = Router();

  router.get('/invoices', async (req, res) => {
    const query = parseInput(ByOrderListQuerySchema, req.query, 'query');
    res.json((await invoices.list(query)).map(present));
  });

  router.get('/invoices/:id', async (req, res) => {
    const id = ResourceIdSchema.safeParse(req.params.id);
    const invoice = id.success ? await invoices.findById(id.data) : undefined;
    if (!invoice)
      throw AppError.notFound('INVOICE.NOT_FOUND', `Invoice ${req.params.id} does not exist.`);
    res.json(present(invoice));
  });

  return router;
}

function present(invoice: Invoice): Record<string, unknown> {
  return { ...invoice, createdAt: invoice.createdAt.toISOString() };
}
