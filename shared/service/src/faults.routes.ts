import { timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { FaultSettingsSchema, type FaultSwitches } from '@app/broker';
import { AppError, parseInput } from '@app/http';

/**
 * `GET /admin/faults` shows the fault switches, `PUT /admin/faults` replaces them
 * (fields left out fall back to off). Mounted only with ALLOW_FAULT_SWITCHES=true, and
 * then answered only to callers on this machine (loopback), or, when `token` is set (a
 * workshop in containers, where callers come from outside the container), only to
 * `Authorization: Bearer <token>`.
 */
export function faultsRouter(faults: FaultSwitches, token?: string): Router {
  const router = Router();
  router.use('/admin/faults', token ? bearer(token) : loopbackOnly);
  router.get('/admin/faults', (_req, res) => {
    res.json(faults.current);
  });
  router.put('/admin/faults', (req, res) => {
    res.json(faults.set(parseInput(FaultSettingsSchema, req.body ?? {})));
  });
  return router;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

const loopbackOnly: RequestHandler = (req, _res, next) => {
  if (LOOPBACK.test(req.socket.remoteAddress ?? '')) return next();
  next(new AppError('FAULTS.FORBIDDEN', 403, 'Fault switches answer only on this machine.'));
};

function bearer(token: string): RequestHandler {
  const expected = Buffer.from(`Bearer ${token}`);
  return (req, _res, next) => {
    const given = Buffer.from(req.get('authorization') ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    next(new AppError('FAULTS.UNAUTHORIZED', 401, 'Fault switches need their bearer token.'));
  };
}
