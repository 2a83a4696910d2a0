// jest's global set-up loads this file without the module map: @app/testing is its build.
import { brokerControl, currentInfrastructure } from '@app/testing';

/**
 * Stopping and starting the RabbitMQ application of the broker the run uses, with
 * `rabbitmqctl` where it runs: inside its container (testcontainers), or the local node
 * (the one `rabbitmqctl` targets by default, or RABBITMQ_NODENAME). The Erlang node stays
 * up, so `rabbitmqctl` keeps answering. Only the `faults-serial` jest project may call
 * `stopBrokerApp`: it stops the broker every test file shares.
 */
export async function stopBrokerApp(): Promise<void> {
  await brokerControl(currentInfrastructure()).stopApp();
}

/** Starts the broker app (a no-op when it runs) and waits until it has booted. */
export async function startBrokerApp(): Promise<void> {
  await brokerControl(currentInfrastructure()).startApp();
}

/**
 * Makes sure the broker app of the run's servers runs; a missing local `rabbitmqctl` is left
 * to the tests to report.
 */
export async function ensureBrokerRunning(): Promise<void> {
  try {
    await startBrokerApp();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
}

/** The memory high watermark of the run's broker (a fraction of RAM), as `rabbitmqctl` reads it. */
export async function memoryHighWatermark(): Promise<number> {
  const stdout = await brokerControl(currentInfrastructure()).rabbitmqctl(
    'eval',
    'vm_memory_monitor:get_vm_memory_high_watermark().',
  );
  const value = Number(stdout.trim());
  if (!Number.isFinite(value) || value <= 0) throw new Error(`unexpected watermark: ${stdout}`);
  return value;
}

/**
 * Sets the memory high watermark of the run's broker: a tiny one raises the memory alarm at
 * once, and the broker blocks every publishing connection (`connection.blocked`) until it
 * is set back. Only the `faults-serial` project may call it.
 */
export async function setMemoryHighWatermark(fraction: number): Promise<void> {
  await brokerControl(currentInfrastructure()).rabbitmqctl(
    'set_vm_memory_high_watermark',
    String(fraction),
  );
}
