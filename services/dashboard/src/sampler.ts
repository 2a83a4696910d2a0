import { ServiceNames, type ServiceName } from '@app/contracts';
import { parsePrometheusText, type Logger } from '@app/runtime';
import type { Config } from './config';
import { vhostOf } from './config';
import type { Topology } from './topology';

export interface ServiceTile {
  name: ServiceName;
  url: string;
  state: 'ready' | 'not ready' | 'down';
  detail?: string;
  outboxBacklog?: number;
  /** The fault switches, where the service allows them to be flipped; null where it does not. */
  faults: Record<string, unknown> | null;
}

export interface QueueTile {
  name: string;
  consumer: string;
  ready: number | null;
  unacked: number | null;
  dead: number | null;
  /** Messages waiting in the retry companions (management API only). */
  retrying: number | null;
  consumers: number | null;
  /** Messages per second into the queue and out to its consumers. */
  inRate: number | null;
  outRate: number | null;
}

export interface OrderRow {
  id: string;
  style: string;
  status: string;
  createdAt: string;
  cancellationReason?: string;
}

export interface Sample {
  at: string;
  /** Where queue figures came from: every queue (management API) or the services' /metrics. */
  source: 'management' | 'metrics';
  managementProblem?: string;
  services: ServiceTile[];
  queues: QueueTile[];
  orders: OrderRow[];
  ordersProblem?: string;
}

const METRICS = new Set([
  'queue_depth',
  'dead_letters',
  'outbox_backlog',
  'messages_consumed_total',
]);

/** What one look at a service found: its tile, and per queue what its /metrics said. */
interface ServiceLook {
  tile: ServiceTile;
  queues: Map<string, { ready?: number; dead?: number; outRate?: number }>;
}

/**
 * Looks at every service, the broker and the recent orders, each in a loop of its own
 * every `REFRESH_MS`, each look bounded by the probe timeout: a service that is slow or
 * down makes its own tile say so and never holds up the others or the page's updates,
 * which are composed from the latest look at each (`current`). Queue figures come from the
 * management API when it answers, else from the services' /metrics (ready and dead per
 * queue; rates from the consumed counters).
 */
export class Sampler {
  private readonly looks = new Map<ServiceName, ServiceLook>();
  private readonly consumedBefore = new Map<string, { total: number; at: number }>();
  private managementLook: { queues?: QueueTile[]; problem?: string } = {
    problem: 'not asked yet',
  };
  private ordersLook: { orders: OrderRow[]; ordersProblem?: string } = { orders: [] };
  private managementDown = 0;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly config: Config,
    private readonly topology: Topology,
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const service of ServiceNames) {
      this.loops.push(this.every(async () => this.looks.set(service, await this.service(service))));
    }
    this.loops.push(this.every(async () => (this.managementLook = await this.management())));
    this.loops.push(this.every(async () => (this.ordersLook = await this.orders())));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** The picture as of the latest look at each source. */
  current(): Sample {
    const management = this.managementLook;
    return {
      at: new Date().toISOString(),
      source: management.queues ? 'management' : 'metrics',
      ...(management.problem ? { managementProblem: management.problem } : {}),
      services: ServiceNames.map(
        (name) =>
          this.looks.get(name)?.tile ?? {
            name,
            url: this.config.serviceUrls[name],
            state: 'down',
            detail: 'not asked yet',
            faults: null,
          },
      ),
      queues: management.queues ?? this.queuesFromMetrics(),
      ...this.ordersLook,
    };
  }

  private async every(look: () => Promise<unknown>): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      try {
        await look();
      } catch (err) {
        this.logger.warn({ err }, 'a look at the system failed');
      }
      const wait = Math.max(50, this.config.REFRESH_MS - (Date.now() - started));
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
  }

  private async service(name: ServiceName): Promise<ServiceLook> {
    const url = this.config.serviceUrls[name];
    const [ready, metrics, faults] = await Promise.all([
      this.fetch(`${url}/health/ready`),
      this.fetch(`${url}/metrics`),
      this.fetch(`${url}/admin/faults`, this.faultHeaders()),
    ]);
    const samples = metrics?.ok ? parsePrometheusText(await metrics.text(), METRICS) : [];
    const backlog = samples.find((sample) => sample.name === 'outbox_backlog')?.value;
    const tile: ServiceTile = {
      name,
      url,
      state: !ready ? 'down' : ready.ok ? 'ready' : 'not ready',
      ...(!ready ? { detail: 'no answer' } : {}),
      ...(!ready?.ok && ready ? { detail: await describeNotReady(ready) } : {}),
      ...(backlog !== undefined && Number.isFinite(backlog) ? { outboxBacklog: backlog } : {}),
      faults: faults?.ok ? ((await faults.json()) as Record<string, unknown>) : null,
    };
    // Figures of a /metrics that did not answer this time: the last ones stand.
    const queues = metrics?.ok
      ? this.queuesOf(samples)
      : (this.looks.get(name)?.queues ?? new Map());
    return { tile, queues };
  }

  private queuesOf(samples: ReturnType<typeof parsePrometheusText>): ServiceLook['queues'] {
    const now = Date.now();
    const queues: ServiceLook['queues'] = new Map();
    for (const queue of this.topology.queues) {
      const of = (name: string) =>
        samples.filter((sample) => sample.name === name && sample.labels.queue === queue.name);
      const ready = of('queue_depth')[0]?.value;
      const dead = of('dead_letters')[0]?.value;
      const consumed = of('messages_consumed_total');
      let outRate: number | undefined;
      if (consumed.length > 0) {
        const total = consumed.reduce((sum, sample) => sum + sample.value, 0);
        const before = this.consumedBefore.get(queue.name);
        if (before && now > before.at && total >= before.total) {
          outRate = Math.round(((total - before.total) * 10_000) / (now - before.at)) / 10;
        }
        this.consumedBefore.set(queue.name, { total, at: now });
      }
      if (ready !== undefined || dead !== undefined || outRate !== undefined) {
        queues.set(queue.name, { ready, dead, outRate });
      }
    }
    return queues;
  }

  private queuesFromMetrics(): QueueTile[] {
    return this.topology.queues.map((queue) => {
      const seen = this.looks.get(queue.consumer)?.queues.get(queue.name);
      return {
        name: queue.name,
        consumer: queue.consumer,
        ready: seen?.ready ?? null,
        unacked: null,
        dead: seen?.dead ?? null,
        retrying: null,
        consumers: null,
        inRate: null,
        outRate: seen?.outRate ?? null,
      };
    });
  }

  /** Every queue of the vhost from the management API, or why not. */
  private async management(): Promise<{ queues?: QueueTile[]; problem?: string }> {
    // A broker without the plugin is asked again only now and then, not on every refresh.
    if (this.managementDown > 0) {
      this.managementDown -= 1;
      return { problem: 'management API not available; queue figures from the services' };
    }
    const base = new URL(this.config.managementUrl);
    const auth = Buffer.from(
      `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`,
    ).toString('base64');
    const vhost = encodeURIComponent(vhostOf(this.config.RABBITMQ_URL));
    const columns =
      'name,messages_ready,messages_unacknowledged,consumers,message_stats.publish_details.rate,message_stats.deliver_get_details.rate';
    const response = await this.fetch(
      `${base.protocol}//${base.host}/api/queues/${vhost}?columns=${columns}`,
      { authorization: `Basic ${auth}` },
    );
    if (!response?.ok) {
      this.managementDown = 10;
      const problem = response
        ? `management API answered ${response.status}`
        : 'management API not available';
      return { problem: `${problem}; queue figures from the services` };
    }
    const listed = (await response.json()) as ManagementQueue[];
    const byName = new Map(listed.map((queue) => [queue.name, queue]));
    return {
      queues: this.topology.queues.map((queue) => {
        const main = byName.get(queue.name);
        const dead = byName.get(queue.dead);
        const retries = queue.retry.map((name) => byName.get(name));
        return {
          name: queue.name,
          consumer: queue.consumer,
          ready: main?.messages_ready ?? null,
          unacked: main?.messages_unacknowledged ?? null,
          dead: dead?.messages_ready ?? null,
          retrying: retries.some(Boolean)
            ? retries.reduce((sum, retry) => sum + (retry?.messages_ready ?? 0), 0)
            : null,
          consumers: main?.consumers ?? null,
          inRate: round(main?.message_stats?.publish_details?.rate),
          outRate: round(main?.message_stats?.deliver_get_details?.rate),
        };
      }),
    };
  }

  private async orders(): Promise<{ orders: OrderRow[]; ordersProblem?: string }> {
    const response = await this.fetch(`${this.config.serviceUrls.order}/orders?limit=15`);
    if (!response?.ok) return { orders: [], ordersProblem: 'order service not answering' };
    const body = (await response.json()) as { items?: OrderRow[] } | OrderRow[];
    const items = Array.isArray(body) ? body : (body.items ?? []);
    return {
      orders: items.map(({ id, style, status, createdAt, cancellationReason }) => ({
        id,
        style,
        status,
        createdAt,
        ...(cancellationReason ? { cancellationReason } : {}),
      })),
    };
  }

  private faultHeaders(): Record<string, string> {
    const token = this.config.FAULT_SWITCHES_TOKEN;
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  /**
   * The answer, read whole, or undefined when nothing answered within the probe timeout.
   * Bodies are read (or cancelled) at once, so no connection waits on an unread one.
   */
  private async fetch(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<Answer | undefined> {
    try {
      const response = await fetch(url, {
        headers,
        signal: AbortSignal.timeout(this.config.PROBE_TIMEOUT_MS),
      });
      const text = await response.text();
      return {
        ok: response.ok,
        status: response.status,
        text: async () => text,
        json: async () => JSON.parse(text) as unknown,
      };
    } catch (err) {
      this.logger.trace({ url, err: (err as Error).message }, 'no answer');
      return undefined;
    }
  }
}

interface Answer {
  ok: boolean;
  status: number;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

interface ManagementQueue {
  name: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: {
    publish_details?: { rate?: number };
    deliver_get_details?: { rate?: number };
  };
}

function round(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 10) / 10;
}

async function describeNotReady(response: Answer): Promise<string> {
  try {
    const body = (await response.json()) as { checks?: Record<string, string> };
    const down = Object.entries(body.checks ?? {})
      .filter(([, state]) => state !== 'up')
      .map(([name]) => name);
    return down.length > 0 ? `${down.join(', ')} down` : `answered ${response.status}`;
  } catch {
    return `answered ${response.status}`;
  }
}
