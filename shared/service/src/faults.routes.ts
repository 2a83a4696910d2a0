import { Router } from 'express';
import { FaultSettingsSchema, type FaultSwitches } from '@app/broker';
import { parseInput } from '@app/http';

/**
 * `GET /admin/faults` shows the fault switches, `PUT /admin/faults` replaces them
 * (fields left out fall back to off). Mounted only outside production.
 */
export function faultsRouter(faults: FaultSwitches): Router {
  const router = Router();
  router.get('/admin/faults', (_req, res) => {
    res.json(faults.current);
  });
  router.put('/admin/faults', (req, res) => {
    res.json(faults.set(parseInput(FaultSettingsSchema, req.body ?? {})));
  });
  return router;
}
