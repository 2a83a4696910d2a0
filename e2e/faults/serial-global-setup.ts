// jest's global set-up loads this file without the module map: @app/testing is its build.
import { globalSetup } from '@app/testing';
import { ensureBrokerRunning } from './broker-app';

/**
 * Global set-up of the `faults-serial` project: a run that died while the broker was
 * stopped must not leave it stopped, so the broker app is started first (a no-op when it
 * runs), then the usual infrastructure set-up.
 */
export default async function serialGlobalSetup(): Promise<void> {
  await ensureBrokerRunning();
  await globalSetup();
}
