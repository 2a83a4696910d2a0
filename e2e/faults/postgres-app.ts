// jest's global set-up loads this file without the module map: @app/testing is its build.
import { currentInfrastructure, postgresControl } from '@app/testing';

/**
 * Stopping and starting the Postgres server the run uses (the machine's cluster, or the
 * container's server), as a database restart or crash would. Every test file shares it, so
 * only the `faults-serial` jest project may call `stopPostgres`.
 */
export async function stopPostgres(): Promise<void> {
  await postgresControl(currentInfrastructure()).stop();
}

/** Starts the server (a no-op when it runs) and waits until it accepts connections. */
export async function startPostgres(): Promise<void> {
  await postgresControl(currentInfrastructure()).start();
}
