import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
// jest's global set-up loads this file without the module map: @app/testing is its build.
import { currentInfrastructure } from '@app/testing';

const run = promisify(execFile);

/**
 * Stopping and starting the RabbitMQ application of the local node with `rabbitmqctl`
 * (the Erlang node stays up, so `rabbitmqctl` keeps answering). The node is the one
 * `rabbitmqctl` targets by default, or RABBITMQ_NODENAME. Only the `faults-serial` jest
 * project may call `stopBrokerApp`: it stops the broker every test file shares.
 */
export async function stopBrokerApp(): Promise<void> {
  await run('rabbitmqctl', ['-q', 'stop_app'], { timeout: 120_000 });
}

/** Starts the broker app (a no-op when it runs) and waits until it has booted. */
export async function startBrokerApp(): Promise<void> {
  await run('rabbitmqctl', ['-q', 'start_app'], { timeout: 120_000 });
  await run('rabbitmqctl', ['-q', 'await_startup'], { timeout: 120_000 });
}

/**
 * Makes sure the local broker app runs. Skipped for containers started by testcontainers,
 * which `rabbitmqctl` does not reach; a missing `rabbitmqctl` is left to the tests to report.
 */
export async function ensureBrokerRunning(): Promise<void> {
  if (currentInfrastructure().source === 'testcontainers') return;
  try {
    await startBrokerApp();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
}

/** The memory high watermark of the local node (a fraction of RAM), as `rabbitmqctl` reads it. */
export async function memoryHighWatermark(): Promise<number> {
  const { stdout } = await run(
    'rabbitmqctl',
    ['-q', 'eval', 'vm_memory_monitor:get_vm_memory_high_watermark().'],
    { timeout: 60_000 },
  );
  const value = Number(stdout.trim());
  if (!Number.isFinite(value) || value <= 0) throw new Error(`unexpected watermark: ${stdout}`);
  return value;
}

/**
 * Sets the memory high watermark of the local node: a tiny one raises the memory alarm at
 * once, and the broker blocks every publishing connection (`connection.blocked`) until it
 * is set back. Only the `faults-serial` project may call it.
 */
export async function setMemoryHighWatermark(fraction: number): Promise<void> {
  await run('rabbitmqctl', ['-q', 'set_vm_memory_high_watermark', String(fraction)], {
    timeout: 60_000,
  });
}
