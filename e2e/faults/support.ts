import { readFile } from 'node:fs/promises';
import { ServiceNames } from '@app/contracts';
import {
  anOrderRequest,
  brokerControl,
  checkLedger,
  currentInfrastructure,
  request,
  waitFor,
  type BrokerConnection,
  type Ledger,
  type LedgerOptions,
  type ServiceProcess,
  type RunningSystem,
} from '@app/testing';

/** Helpers shared by the fault tests: a stream of orders, the broker's admin tool, the books. */

/** Runs `rabbitmqctl` (quietly) where the run's broker runs: in its container, or locally. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  return brokerControl(currentInfrastructure()).rabbitmqctl(...args);
}

export type BrokerConnectionInfo = Pick<BrokerConnection, 'pid' | 'name' | 'connectionName'>;

/** The services' connections on one vhost (only that vhost: other test files share the broker). */
export async function serviceConnections(vhost: string): Promise<BrokerConnectionInfo[]> {
  const services: readonly string[] = ServiceNames;
  return (await brokerControl(currentInfrastructure()).listConnections())
    .filter((row) => row.vhost === vhost)
    .filter((row) => services.includes(row.connectionName.split('#')[0] ?? ''))
    .map(({ pid, name, connectionName }) => ({ pid, name, connectionName }));
}

/**
 * Closes every service connection on the vhost, as a broker restart or a network fault
 * would, and returns them once the broker no longer lists any of them.
 */
export async function closeServiceConnections(vhost: string): Promise<BrokerConnectionInfo[]> {
  const connections = await serviceConnections(vhost);
  await Promise.all(
    connections.map(async (connection) => {
      try {
        await brokerControl(currentInfrastructure()).closeConnection(
          connection.pid,
          'closed by a fault test',
        );
      } catch (err) {
        // Gone already (its client closed it meanwhile) is as good as closed.
        const still = await serviceConnections(vhost);
        if (still.some((c) => c.pid === connection.pid)) throw err;
      }
    }),
  );
  await waitFor(
    'the broker to drop the closed connections',
    async () => {
      const pids = new Set((await serviceConnections(vhost)).map((c) => c.pid));
      return connections.every((c) => !pids.has(c.pid));
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  return connections;
}

/**
 * Waits until no message waits or is in flight on the vhost: every queue but the parking
 * `.dead` ones has no ready and no unacknowledged message. A "no duplicate" check made
 * before that could miss a redelivery still on its way. Streams (Order's event history)
 * keep what they hold by design and count as idle.
 */
export async function queuesIdle(vhost: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `every queue on ${vhost} to be idle (nothing ready, nothing unacknowledged)`,
    async () => {
      const out = await rabbitmqctl(
        'list_queues',
        '-p',
        vhost,
        '--no-table-headers',
        'name',
        'messages_ready',
        'messages_unacknowledged',
        'type',
      );
      const busy = out
        .split('\n')
        .map((line) => line.split('\t'))
        .filter(([name]) => name && !name.endsWith('.dead') && !name.startsWith('amq.gen-'))
        .filter(([, , , type]) => type !== 'stream')
        .filter(([, ready, unacked]) => Number(ready) > 0 || Number(unacked) > 0);
      return busy.length === 0;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/**
 * Waits until no service holds an unsent outbox row, so nothing more will reach the wire:
 * a row published but not marked sent (its relay lost the database or the confirm) is
 * published again once its lease runs out, after the queues may already have looked idle.
 */
export async function outboxesDrained(system: RunningSystem, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    'every outbox row to be sent',
    async () => {
      for (const db of Object.values(system.databases)) {
        const [outbox] = await db.query<{ exists: boolean }>(
          `SELECT to_regclass('outbox_messages') IS NOT NULL AS exists`,
        );
        if (!outbox?.exists) continue;
        const [row] = await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL',
        );
        if (Number(row?.n) > 0) return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Nothing left to deliver: every outbox sent, then every queue idle. */
export async function quiet(system: RunningSystem, timeoutMs = 120_000): Promise<void> {
  await outboxesDrained(system, timeoutMs);
  await queuesIdle(system.vhost.name, timeoutMs);
}

export interface OrderStream {
  /** Resolves with every response once all orders were posted. */
  /** Non-202 answers keep their body, so a failed assertion shows what went wrong. */
  done: Promise<{ status: number; id?: string; body?: unknown }[]>;
  /** How many POSTs have been answered so far. */
  answered(): number;
}

/**
 * Posts `count` orders, `concurrency` at a time. `gates` holds the stream back: the order
 * with index `i` is not posted before `gates[i]` resolved, so a fault can be injected while
 * requests are in flight and still certainly before the stream ends.
 */
export function streamOrders(
  orderUrl: string,
  count: number,
  {
    concurrency = 10,
    gates = {},
  }: { concurrency?: number; gates?: Record<number, Promise<unknown>> } = {},
): OrderStream {
  const responses: { status: number; id?: string; body?: unknown }[] = new Array(count);
  let next = 0;
  let answered = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next;
      if (index >= count) return;
      next += 1;
      const gate = gates[index];
      if (gate) await gate;
      // Both styles side by side, so every fault meets commands and events alike.
      const style = index % 2 === 0 ? 'event' : 'command';
      const response = await request(`${orderUrl}/orders`, {
        body: anOrderRequest({ style }),
      }).catch((err: Error) => ({ status: 0, body: { error: err.message } }));
      responses[index] = {
        status: response.status,
        ...(typeof response.body?.id === 'string' ? { id: response.body.id as string } : {}),
        ...(response.status === 202 ? {} : { body: response.body }),
      };
      answered += 1;
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => responses);
  return { done, answered: () => answered };
}

/** A promise with its resolve, to open a gate of `streamOrders`. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Waits until every order of `orderIds` is COMPLETED in Order's own database. */
export async function allCompleted(
  system: RunningSystem,
  orderIds: string[],
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `all ${orderIds.length} orders to complete`,
    async () => {
      const [row] = await system.databases.order.query<{ n: string }>(
        `SELECT count(*) AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'COMPLETED'`,
        [orderIds],
      );
      return Number(row?.n) === orderIds.length;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/**
 * Waits until every order is COMPLETED, every queue is idle and every service's books hold
 * every order, then returns the ledger of both styles together (each order checked in the
 * style Order recorded for it), whose `doubled` and `miscounted` the caller asserts empty.
 */
export async function settledLedger(
  system: RunningSystem,
  orderIds: string[],
  timeoutMs: number,
  options: LedgerOptions = {},
): Promise<Ledger> {
  await allCompleted(system, orderIds, timeoutMs);
  await quiet(system, timeoutMs);
  const rows = await system.databases.order.query<{ id: string; style: 'event' | 'command' }>(
    'SELECT id, style FROM orders WHERE id = ANY($1::uuid[])',
    [orderIds],
  );
  const byStyle = (['event', 'command'] as const).map(
    (style) => [style, rows.filter((row) => row.style === style).map((row) => row.id)] as const,
  );
  return waitFor(
    'every service to account for every order',
    async () => {
      const ledgers = await Promise.all(
        byStyle.map(([style, ids]) => checkLedger(system, ids, style, options)),
      );
      const [first, ...others] = ledgers;
      const ledger = others.reduce<Ledger>(
        (sum, next) => ({
          ...sum,
          orders: sum.orders + next.orders,
          completed: sum.completed + next.completed,
          cancelled: sum.cancelled + next.cancelled,
          uncompensated: [...sum.uncompensated, ...next.uncompensated],
          lost: [...sum.lost, ...next.lost],
          doubled: [...sum.doubled, ...next.doubled],
          miscounted: [...sum.miscounted, ...next.miscounted],
        }),
        first!,
      );
      return ledger.lost.length === 0 ? ledger : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** The deliveries each service handled, by outcome (processed, duplicate, retried, dead-lettered). */
export async function consumedByOutcome(
  services: Partial<Record<string, ServiceProcess>>,
): Promise<Record<string, Record<string, number>>> {
  const result: Record<string, Record<string, number>> = {};
  for (const [name, service] of Object.entries(services)) {
    if (!service) continue;
    const metrics = await fetch(`${service.url}/metrics`)
      .then((r) => r.text())
      .catch(() => '');
    const outcomes: Record<string, number> = {};
    for (const match of metrics.matchAll(
      /^messages_consumed_total\{[^}]*outcome="([^"]+)"[^}]*\} (\d+)/gm,
    )) {
      outcomes[match[1]!] = (outcomes[match[1]!] ?? 0) + Number(match[2]);
    }
    result[name] = outcomes;
  }
  return result;
}

/** The resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** True while the process has not exited (signal 0 probes without touching it). */
export function isRunning(service: ServiceProcess): boolean {
  if (service.pid === undefined) return false;
  try {
    process.kill(service.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Log lines that tell of a crash: an uncaught exception, or a fatal log line. */
export function crashLines(service: ServiceProcess): string[] {
  return service.output.filter((line) => /uncaught ?exception|"level":(60|"fatal")/i.test(line));
}

/** Error and fatal log lines of a service, to show next to a failed assertion. */
export function errorLines(service: ServiceProcess, limit = 5): string[] {
  return service.output.filter((line) => /"level":"(error|fatal)"/.test(line)).slice(0, limit);
}
