import { globalTeardown } from '@app/testing';
import { ensureBrokerRunning } from './broker-app';

/** Global tear-down of the `faults-serial` project: the broker app is left running, whatever happened. */
export default async function serialGlobalTeardown(): Promise<void> {
  await ensureBrokerRunning();
  await globalTeardown();
}
