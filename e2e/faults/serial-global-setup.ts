// jest's global set-up loads this file without the module map: @app/testing is its build.
import { currentInfrastructure, globalSetup } from '@app/testing';
import { ensureBrokerRunning } from './broker-app';
import { startPostgres } from './postgres-app';

/**
 * Global set-up of the `faults-serial` project: a run that died while the broker or Postgres
 * was stopped must not leave it stopped, so both are started first (a no-op when it
 * runs), then the usual infrastructure set-up.
 */
export default async function serialGlobalSetup(): Promise<void> {
  await ensureBrokerRunning();
  // Likewise a run that died while Postgres was stopped (the local path only).
  if (currentInfrastructure().source !== 'testcontainers') await startPostgres();
  await globalSetup();
}
