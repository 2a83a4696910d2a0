import path from 'node:path';
import express, { Router } from 'express';
import { z } from 'zod';
import { AppError, parseInput } from '@app/http';
import {
  BurstSchema,
  FaultPresetSchema,
  PlaceOrderSchema,
  ServiceNameSchema,
  type Actions,
} from './actions';
import type { LiveUpdates } from './live-updates';
import type { Topology } from './topology';
import type { Trails } from './trails';

export interface DashboardParts {
  topology: Topology;
  trails: Trails;
  actions: Actions;
  live: LiveUpdates;
  current: () => unknown;
  orderUrl: string;
}

/** The page itself, in public/ beside dist/ (copied into the image as it is). */
export const PUBLIC_DIR = path.join(__dirname, '..', 'public');

const OrderIdSchema = z.uuid();

export function dashboardRouter(parts: DashboardParts): Router {
  const router = Router();
  router.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));

  // A cross-site page can send a form or a `no-cors` fetch, never a JSON request without a
  // CORS preflight this app does not answer: so every action must say it is JSON, body or not.
  router.use('/api', (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.is('application/json')) return next();
    next(
      new AppError(
        'REQUEST.UNSUPPORTED_MEDIA_TYPE',
        415,
        'Actions take Content-Type: application/json.',
      ),
    );
  });
  router.get('/api/topology', (_req, res) => {
    res.json(parts.topology);
  });
  router.get('/api/state', (_req, res) => {
    res.json(parts.current());
  });
  router.get('/api/events', (req, res) => {
    if (!parts.live.add(res, parts.current())) {
      throw new AppError('DASHBOARD.TOO_MANY_CLIENTS', 503, 'Too many pages are open at once.');
    }
  });
  router.get('/api/orders/:id/trail', async (req, res) => {
    const id = parseInput(OrderIdSchema, req.params.id, 'id');
    const order = await fetch(`${parts.orderUrl}/orders/${id}`, {
      signal: AbortSignal.timeout(2_000),
    })
      .then(async (response) => (response.ok ? ((await response.json()) as unknown) : null))
      .catch(() => null);
    res.json({ orderId: id, order, trail: parts.trails.trailOf(id) });
  });

  router.post('/api/orders', async (req, res) => {
    const input = parseInput(PlaceOrderSchema, req.body ?? {});
    const { status, body } = await parts.actions.placeOrder(input).catch(() => {
      throw new AppError('DASHBOARD.ORDER_UNAVAILABLE', 502, 'The order service did not answer.');
    });
    res.status(status === 202 ? 202 : 502).json(body);
  });
  router.post('/api/burst', (req, res) => {
    const input = parseInput(BurstSchema, req.body ?? {});
    if (!parts.actions.startBurst(input)) {
      throw new AppError('DASHBOARD.BURST_RUNNING', 409, 'A burst is running already.');
    }
    res.status(202).json(parts.actions.burst);
  });
  router.put('/api/faults/:service', async (req, res) => {
    const service = parseInput(ServiceNameSchema, req.params.service, 'service');
    const { preset } = parseInput(FaultPresetSchema, req.body ?? {});
    const { status, body } = await parts.actions.setFaults(service, preset).catch(() => {
      throw new AppError('DASHBOARD.SERVICE_UNAVAILABLE', 502, `${service} did not answer.`);
    });
    if (status !== 200) {
      throw new AppError(
        'DASHBOARD.FAULTS_REFUSED',
        409,
        `${service} refused the fault switches (${status}).`,
      );
    }
    res.json(body);
  });
  return router;
}
