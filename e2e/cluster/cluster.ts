import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ServiceName } from '@app/contracts';
import {
  REPO_ROOT,
  anOrderRequest,
  checkLedger,
  uniqueTestName,
  currentInfrastructure,
  request,
  startSystem,
  waitFor,
  type Ledger,
  type RunningSystem,
  type ServiceProcess,
} from '@app/testing';
import { allCompleted, outboxesDrained } from '../faults/support';

/**
 * The cluster failover scenario (docs/cluster.md): orders in both styles while the node that
 * leads the most consumer queues is stopped and started again, then a second node is
 * stopped for a while; then the ledger. Used by the short form in `make test` and the full
 * form of `make cluster-test` (more orders, two instances of the consumers and of Order).
 */

const run = promisify(execFile);
const CLUSTER_SH = path.join(REPO_ROOT, 'scripts/cluster.sh');

export const NODES = ['a', 'b', 'c'] as const;
export type NodeLetter = (typeof NODES)[number];
export const nodeName = (letter: NodeLetter): string => `rabbit-${letter}@localhost`;
const amqpPort = (letter: NodeLetter): number => 5681 + NODES.indexOf(letter);
const managementPort = (letter: NodeLetter): number => 15681 + NODES.indexOf(letter);

/** Runs scripts/cluster.sh; its output. */
export async function clusterSh(...args: string[]): Promise<string> {
  const { stdout } = await run(CLUSTER_SH, args, { cwd: REPO_ROOT, timeout: 240_000 });
  return stdout;
}

/** Starts the cluster unless it runs; true when this call started it (and so should stop it). */
export async function ensureCluster(): Promise<boolean> {
  const out = await clusterSh('up');
  return /cluster up in/.test(out);
}

/** The leader node of each queue of the vhost, asked of a running node's management API. */
export async function queueLeaders(
  vhost: string,
  via: NodeLetter,
): Promise<Map<string, string> | undefined> {
  const response = await fetch(
    `http://127.0.0.1:${managementPort(via)}/api/queues/${encodeURIComponent(vhost)}?columns=name,leader`,
    {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      signal: AbortSignal.timeout(3_000),
    },
  ).catch(() => undefined);
  if (!response?.ok) return undefined;
  const queues = (await response.json()) as { name: string; leader?: string }[];
  return new Map(queues.map((q) => [q.name, q.leader ?? '']));
}

/** The consumer queues (not their retry and dead-letter companions): where the traffic is. */
export const isConsumerQueue = (name: string): boolean =>
  !name.endsWith('.dead') && !name.includes('.retry.') && !name.startsWith('amq.');

/** The node leading the most consumer queues (of `candidates`). */
export function busiestLeader(
  leaders: Map<string, string>,
  candidates: readonly NodeLetter[],
): NodeLetter {
  const counts = new Map<NodeLetter, number>(candidates.map((letter) => [letter, 0]));
  for (const [queue, leader] of leaders) {
    const letter = candidates.find((l) => nodeName(l) === leader);
    if (letter && isConsumerQueue(queue)) counts.set(letter, (counts.get(letter) ?? 0) + 1);
  }
  return [...counts].sort((x, y) => y[1] - x[1])[0]![0];
}

export interface LeaderMove {
  queue: string;
  from: string;
  to: string;
  /** From the stop command to the first time the management API named another leader. */
  moveMs: number;
}

export interface NodeStop {
  node: string;
  /** Seconds since the load began. */
  stoppedAt: number;
  startedAt: number;
  /** How long the node was down (stop command to its restart being ready). */
  downMs: number;
  moves: LeaderMove[];
  /** Consumer queues the node led, that never got another leader while it was down. */
  unmoved: string[];
}

/**
 * Stops a node, polls the survivors until every consumer queue it led has another leader,
 * keeps it down for `holdMs` more, then starts it again.
 */
async function stopAndRestart(
  vhost: string,
  letter: NodeLetter,
  holdMs: number,
  since: number,
): Promise<NodeStop> {
  const survivor = NODES.find((l) => l !== letter)!;
  const before = (await queueLeaders(vhost, survivor)) ?? new Map<string, string>();
  const led = [...before].filter(
    ([q, leader]) => leader === nodeName(letter) && isConsumerQueue(q),
  );
  const stopped = Date.now();
  const stopping = clusterSh('stop-node', letter);
  const moves: LeaderMove[] = [];
  const pending = new Map(led);
  await waitFor(
    `the queues led by ${nodeName(letter)} to elect new leaders`,
    async () => {
      const now = await queueLeaders(vhost, survivor);
      for (const [queue, from] of pending) {
        const to = now?.get(queue);
        if (to && to !== from) {
          moves.push({ queue, from, to, moveMs: Date.now() - stopped });
          pending.delete(queue);
        }
      }
      return pending.size === 0;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  ).catch(() => undefined);
  await stopping;
  const held = Date.now() - stopped;
  if (held < holdMs) await new Promise((resolve) => setTimeout(resolve, holdMs - held));
  await clusterSh('start-node', letter);
  const started = Date.now();
  return {
    node: nodeName(letter),
    stoppedAt: (stopped - since) / 1000,
    startedAt: (started - since) / 1000,
    downMs: started - stopped,
    moves,
    unmoved: [...pending.keys()],
  };
}

/** What the three nodes cost while the scenario ran, from /proc (their VMs, found by HOME). */
export interface NodeCost {
  /** Peak and mean resident memory of the three VMs together, MiB. */
  rssMiB: { peak: number; mean: number };
  /** CPU of the three VMs together, in cores (1 = one core busy), mean and peak over 2 s windows. */
  cpuCores: { mean: number; peak: number };
  samples: number;
}

async function clusterPids(): Promise<number[]> {
  const home = `HOME=${path.join(REPO_ROOT, '.run/cluster/home')}`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() !== 'beam.smp') continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(home)) pids.push(Number(entry));
  }
  return pids;
}

async function usage(pids: number[]): Promise<{ rss: number; ticks: number }> {
  let rss = 0;
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    rss += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
  }
  return { rss, ticks };
}

/** Samples the nodes every 2 s until `stop` is called; clock ticks are 100 per second here. */
function sampleNodeCost(): { stop: () => Promise<NodeCost> } {
  const rss: number[] = [];
  const cpu: number[] = [];
  let running = true;
  const loop = (async () => {
    let last: { ticks: number; at: number } | undefined;
    while (running) {
      // A node stopped and started again has a new VM: look the pids up each time.
      const now = await usage(await clusterPids());
      const at = Date.now();
      rss.push(now.rss);
      if (last && now.ticks >= last.ticks)
        cpu.push((now.ticks - last.ticks) / 100 / ((at - last.at) / 1000));
      last = { ticks: now.ticks, at };
      // Unref'd: a run that failed before `stop` must not be kept alive by the sampler.
      await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
    }
  })();
  const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return {
    async stop() {
      running = false;
      await loop;
      return {
        rssMiB: { peak: mib(Math.max(0, ...rss)), mean: mib(mean(rss)) },
        cpuCores: {
          mean: Number(mean(cpu).toFixed(2)),
          peak: Number(Math.max(0, ...cpu).toFixed(2)),
        },
        samples: rss.length,
      };
    },
  };
}

export interface ClusterOptions {
  orders: number;
  /** Orders per second posted. */
  rate: number;
  /** Instances of Invoicing, Shipping, Payment and Order (Statistics and the rest: one). */
  instances: number;
  /** How long the second node stays down. */
  secondNodeDownMs: number;
  settleTimeoutMs: number;
  /** False: no node is stopped (the 1 vs 2 instances measurement). Default true. */
  faults?: boolean;
}

export interface ClusterResult {
  options: ClusterOptions;
  vhost: string;
  ledger: Pick<Ledger, 'orders' | 'completed' | 'cancelled'> & {
    lost: number;
    doubled: number;
    miscounted: number;
    uncompensated: number;
    redeliveries: Record<string, number>;
    details: Pick<Ledger, 'lost' | 'doubled' | 'miscounted' | 'uncompensated'>;
  };
  stops: NodeStop[];
  /** Per process (`invoicing-2`): reconnects and the node connected to at the end. */
  reconnects: Record<string, { reconnects: number; node: string | undefined }>;
  /** Orders over the time from the first placed to the last terminal one. */
  ordersPerSecond: number;
  /** Orders placed and orders terminal per second since the load began. */
  throughput: { second: number; placed: number; terminal: number }[];
  rejectedPosts: number;
  /** The three nodes while the orders flowed and settled. */
  nodeCost: NodeCost;
  durationMs: { load: number; settle: number; total: number };
}

/** Runs the scenario on the running cluster; the system is torn down before it returns. */
export async function runClusterScenario(options: ClusterOptions): Promise<ClusterResult> {
  const began = Date.now();
  const postgresUrl = currentInfrastructure().postgresUrl;
  const name = uniqueTestName('cluster');
  const system = await startSystem({
    name,
    servers: {
      rabbitmqUrl: `amqp://guest:guest@127.0.0.1:${amqpPort('a')}`,
      rabbitmqManagementUrl: `http://guest:guest@127.0.0.1:${managementPort('a')}`,
      postgresUrl,
    },
    nameInstances: true,
    faultSwitches: false,
    env: {
      // Every node, from node a first; second instances start from another (scenario).
      RABBITMQ_URL: urlList(name, 0),
      // CLUSTER_QUORUM_REPLICAS=1 breaks the replication on purpose: no leader can move.
      RABBITMQ_QUORUM_REPLICAS: process.env.CLUSTER_QUORUM_REPLICAS ?? '3',
      LOG_LEVEL: 'warn',
      // Of the relay and its leases: a relay cut off by a node stop frees its rows soon.
      OUTBOX_LEASE_MS: '5000',
      OUTBOX_POLL_INTERVAL_MS: '250',
    },
    services: ['order', 'invoicing', 'shipping', 'statistics', 'payment'],
    readyTimeoutMs: 60_000,
  }).catch(async (err: Error) => {
    throw new Error(`the system did not start on the cluster: ${err.message}`);
  });
  try {
    return await scenario(system, options, began);
  } catch (err) {
    const folder = path.join(REPO_ROOT, '.run/cluster-logs', system.name);
    await system.writeLogs(folder).catch(() => undefined);
    throw new Error(`${(err as Error).message} (service logs: ${folder})`, { cause: err });
  } finally {
    await system.teardown().catch(() => undefined);
  }
}

/**
 * The three nodes' URLs on the vhost, starting at node `first`: processes that start at
 * different nodes spread their connections, as a load balancer would.
 */
function urlList(vhost: string, first: number): string {
  const urls = NODES.map(
    (letter) => `amqp://guest:guest@127.0.0.1:${amqpPort(letter)}/${encodeURIComponent(vhost)}`,
  );
  return [...urls.slice(first), ...urls.slice(0, first)].join(',');
}

async function scenario(
  system: RunningSystem,
  options: ClusterOptions,
  began: number,
): Promise<ClusterResult> {
  const vhost = system.vhost.name;
  if (process.env.CLUSTER_BREAK === 'dedup') {
    // Broken on purpose (docs/cluster.md): without the inbox's key and the entities' unique
    // keys, `ON CONFLICT DO NOTHING` never fires, so a message redelivered by a failover is
    // handled again. The inbox alone is not enough: the unique keys absorb it too.
    const broken = [
      'ALTER TABLE inbox_messages DROP CONSTRAINT IF EXISTS inbox_messages_pkey',
      'DROP INDEX IF EXISTS invoices_order_id_key',
      'DROP INDEX IF EXISTS shipments_order_id_key',
      'DROP INDEX IF EXISTS payments_order_id_key',
      'ALTER TABLE IF EXISTS counted_orders DROP CONSTRAINT IF EXISTS counted_orders_pkey',
    ];
    for (const db of Object.values(system.databases)) {
      for (const statement of broken) await db.query(statement);
    }
  }
  // Second instances try the nodes from another one first, so their connections spread.
  const scaled: ServiceName[] = ['order', 'invoicing', 'shipping', 'payment'];
  for (let n = 1; n < options.instances; n += 1) {
    for (const service of scaled) {
      await system.start(service, { env: { RABBITMQ_URL: urlList(vhost, n % NODES.length) } });
    }
  }
  const orderUrls = system.instances('order').map((instance) => instance.url);

  const cost = sampleNodeCost();
  const loadStart = Date.now();
  const posted: string[] = [];
  let rejectedPosts = 0;
  const load = (async () => {
    const intervalMs = 1000 / options.rate;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < options.orders; i += 1) {
      const due = loadStart + i * intervalMs;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      // At most 32 POSTs open: a rate above what Order takes queues here, not in sockets.
      while (inFlight.size >= 32) await Promise.race(inFlight);
      const style = i % 2 === 0 ? 'event' : 'command';
      const body = anOrderRequest({ style });
      const key = `cluster-${i}-${loadStart}`;
      const post = (async () => {
        // Retried with the same Idempotency-Key until accepted: a 503 while Order is busy,
        // or a refused connection, must not lose the order nor place it twice.
        for (let attempt = 0; ; attempt += 1) {
          const url = orderUrls[(i + attempt) % orderUrls.length]!;
          const response = await request(`${url}/orders`, {
            body,
            headers: { 'idempotency-key': key },
          }).catch(() => undefined);
          if (response?.status === 202 && typeof response.body?.id === 'string') {
            posted.push(response.body.id as string);
            return;
          }
          rejectedPosts += 1;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      inFlight.add(post);
      void post.finally(() => inFlight.delete(post));
    }
    await Promise.all(inFlight);
  })();

  // Faults while the orders flow: the busiest leader node first, then a second node.
  const stops: NodeStop[] = [];
  if (options.faults !== false) {
    const loadSeconds = options.orders / options.rate;
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, (loadSeconds * 1000) / 6)));
    const leaders = (await queueLeaders(vhost, 'a')) ?? new Map<string, string>();
    const first = busiestLeader(leaders, NODES);
    stops.push(await stopAndRestart(vhost, first, 0, loadStart));
    const now = (await queueLeaders(vhost, first)) ?? new Map<string, string>();
    const second = busiestLeader(
      now,
      NODES.filter((l) => l !== first),
    );
    stops.push(await stopAndRestart(vhost, second, options.secondNodeDownMs, loadStart));
  }
  await load;
  const loadMs = Date.now() - loadStart;

  const settleStart = Date.now();
  const ledger = await settle(system, posted, options.settleTimeoutMs);
  const settleMs = Date.now() - settleStart;
  const nodeCost = await cost.stop();

  const reconnects: ClusterResult['reconnects'] = {};
  for (const service of system.serviceNames) {
    for (const instance of system.instances(service)) {
      reconnects[instance.label] = await connectionState(instance);
    }
  }
  return {
    options,
    vhost,
    ledger: {
      orders: ledger.orders,
      completed: ledger.completed,
      cancelled: ledger.cancelled,
      lost: ledger.lost.length,
      doubled: ledger.doubled.length,
      miscounted: ledger.miscounted.length,
      uncompensated: ledger.uncompensated.length,
      redeliveries: ledger.redeliveries,
      details: {
        lost: ledger.lost.slice(0, 10),
        doubled: ledger.doubled.slice(0, 10),
        miscounted: ledger.miscounted.slice(0, 10),
        uncompensated: ledger.uncompensated.slice(0, 10),
      },
    },
    stops,
    reconnects,
    ordersPerSecond: await endToEndRate(system, posted),
    throughput: await throughput(system, posted, loadStart),
    rejectedPosts,
    nodeCost,
    durationMs: { load: loadMs, settle: settleMs, total: Date.now() - began },
  };
}

/**
 * Nothing left on any queue of the vhost, asked of the cluster: parking `.dead` queues aside,
 * and streams (`order.events.history` keeps every event for late subscribers by design).
 */
async function clusterQueuesIdle(vhost: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `every queue on ${vhost} to be idle`,
    async () => {
      const response = await fetch(
        `http://127.0.0.1:${managementPort('a')}/api/queues/${encodeURIComponent(vhost)}?columns=name,type,messages_ready,messages_unacknowledged`,
        { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } },
      );
      if (!response.ok) return false;
      const queues = (await response.json()) as {
        name: string;
        type?: string;
        messages_ready?: number;
        messages_unacknowledged?: number;
      }[];
      return queues
        .filter((q) => !q.name.endsWith('.dead') && q.type !== 'stream')
        .every((q) => (q.messages_ready ?? 0) === 0 && (q.messages_unacknowledged ?? 0) === 0);
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** Every order terminal, every outbox sent, every queue idle; then both styles' ledgers summed. */
async function settle(
  system: RunningSystem,
  orderIds: string[],
  timeoutMs: number,
): Promise<Ledger> {
  await allCompleted(system, orderIds, timeoutMs);
  await outboxesDrained(system, timeoutMs);
  await clusterQueuesIdle(system.vhost.name, timeoutMs);
  const rows = await system.databases.order.query<{ id: string; style: 'event' | 'command' }>(
    'SELECT id, style FROM orders WHERE id = ANY($1::uuid[])',
    [orderIds],
  );
  return waitFor(
    'every service to account for every order',
    async () => {
      const ledgers = await Promise.all(
        (['event', 'command'] as const).map((style) =>
          checkLedger(
            system,
            rows.filter((row) => row.style === style).map((row) => row.id),
            style,
          ),
        ),
      );
      const sum = ledgers.reduce((a, b) => ({
        ...a,
        orders: a.orders + b.orders,
        completed: a.completed + b.completed,
        cancelled: a.cancelled + b.cancelled,
        uncompensated: [...a.uncompensated, ...b.uncompensated],
        lost: [...a.lost, ...b.lost],
        doubled: [...a.doubled, ...b.doubled],
        miscounted: [...a.miscounted, ...b.miscounted],
      }));
      return sum.lost.length === 0 ? sum : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  ).catch(async () => {
    // Lost orders stay lost: report them rather than a timeout.
    const ledgers = await Promise.all(
      (['event', 'command'] as const).map((style) =>
        checkLedger(
          system,
          rows.filter((row) => row.style === style).map((row) => row.id),
          style,
        ),
      ),
    );
    return { ...ledgers[0]!, lost: [...ledgers[0]!.lost, ...ledgers[1]!.lost] };
  });
}

async function connectionState(
  instance: ServiceProcess,
): Promise<{ reconnects: number; node: string | undefined }> {
  const text = await fetch(`${instance.url}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const reconnects = Number(/^broker_reconnects_total (\S+)$/m.exec(text)?.[1] ?? NaN);
  const node = /^broker_connected_node\{node="([^"]+)"\} 1$/m.exec(text)?.[1];
  return { reconnects, node };
}

/** Orders placed (created_at) and terminal (updated_at of COMPLETED/CANCELLED) per second. */
async function throughput(
  system: RunningSystem,
  orderIds: string[],
  since: number,
): Promise<ClusterResult['throughput']> {
  const rows = await system.databases.order.query<{
    second: number;
    placed: string;
    terminal: string;
  }>(
    `WITH t AS (
       SELECT floor(extract(epoch FROM created_at) * 1000 - $2) / 1000 AS placed_s,
              CASE WHEN status IN ('COMPLETED','CANCELLED')
                   THEN floor((extract(epoch FROM updated_at) * 1000 - $2) / 1000) END AS done_s
         FROM orders WHERE id = ANY($1::uuid[]))
     SELECT s AS second,
            (SELECT count(*) FROM t WHERE floor(placed_s) = s) AS placed,
            (SELECT count(*) FROM t WHERE done_s = s) AS terminal
       FROM generate_series(0, (SELECT max(coalesce(done_s, 0))::int FROM t)) AS s ORDER BY s`,
    [orderIds, since],
  );
  return rows.map((row) => ({
    second: Number(row.second),
    placed: Number(row.placed),
    terminal: Number(row.terminal),
  }));
}

async function endToEndRate(system: RunningSystem, orderIds: string[]): Promise<number> {
  const [row] = await system.databases.order.query<{ seconds: number }>(
    `SELECT extract(epoch FROM max(updated_at) - min(created_at)) AS seconds
       FROM orders WHERE id = ANY($1::uuid[])`,
    [orderIds],
  );
  return Number((orderIds.length / Math.max(0.001, Number(row?.seconds))).toFixed(1));
}
