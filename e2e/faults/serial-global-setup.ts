// jest's global set-up loads this file without the module map: @app/testing is its build.
import { globalSetup, mayUseLocalServers } from '@app/testing';
import { ensureBrokerRunning } from './broker-app';
import { startPostgres } from './postgres-app';

/**
 * Global set-up of the `faults-serial` project: a run that died while the broker or Postgres
 * was stopped must not leave it stopped, so both are started (a no-op when they run): the
 * local ones before the servers are chosen (a stopped server would not answer), unless the
 * run is on containers; then those of the servers chosen.
 */
export default async function serialGlobalSetup(): Promise<void> {
  if (mayUseLocalServers()) {
    await ensureBrokerRunning();
    await startPostgres();
  }
  await globalSetup();
  await ensureBrokerRunning();
  await startPostgres();
}
