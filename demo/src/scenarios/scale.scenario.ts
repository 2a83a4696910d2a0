import { waitFor } from '@app/testing';
import { scaleChart } from '../charts';
import { Books, placeOrders } from '../orders';
import { bar } from '../progress';
import { formatRate, formatSeconds, fromFirstRise, steadyRate, type Point } from '../rates';
import { Sampler } from '../sampler';
import { handledBy } from '../trail';
import { check, type ScenarioContext, type Scenario } from '../scenario';

const QUEUE = 'invoicing.new-order';

interface Round {
  instances: number;
  label: string;
  processed: Point[];
  rate: number | undefined;
  drainMs: number | undefined;
  invoices: { orders: number; rows: number };
  /** Messages of this round each instance handled, by instance label. */
  shares: Record<string, number>;
}

/** The speed-up of the last round over the first, when both have a rate. */
export function speedUp(rounds: Pick<Round, 'rate'>[]): number | undefined {
  const first = rounds[0]?.rate;
  const last = rounds[rounds.length - 1]?.rate;
  return first && last ? last / first : undefined;
}

export const scale: Scenario = {
  id: 'scale',
  title: 'Scale',
  summary: 'one and several Invoicing instances on one queue',
  shows:
    'A backlog of orders waits in invoicing.new-order and one Invoicing instance works it off; ' +
    'then an equal backlog goes to several instances competing on the same queue: each message ' +
    'goes to exactly one of them, and the backlog drains faster.',
  async run(context) {
    const { system, config, say } = context;
    const total = config.DEMO_SCALE_ORDERS;
    await system.ensureRunning();
    say(
      `  Each instance handles one message at a time and each takes at least ${config.DEMO_SCALE_DELAY_MS} ms ` +
        '(a stand-in for real work, e.g. rendering a PDF), so the handlers, not the broker, set the pace.',
    );
    const rounds: Round[] = [];
    try {
      for (const instances of [1, config.DEMO_SCALE_INSTANCES]) {
        rounds.push(await runRound(context, instances));
      }
    } finally {
      await system.stop('invoicing');
      await system.ensureRunning(['invoicing']);
    }
    const gain = speedUp(rounds);
    const [one, many] = rounds;
    const fairShare = (round: Round): boolean =>
      Object.keys(round.shares).length === round.instances &&
      Object.values(round.shares).every((n) => n > 0);
    return {
      headline: rounds
        .map((round) => `${round.label}: ${formatRate(round.rate)}`)
        .join(', ')
        .concat(gain ? ` (x${gain.toFixed(1)})` : ''),
      figures: rounds
        .flatMap((round) => [
          {
            label: `${round.label}: throughput`,
            value: `${formatRate(round.rate)}; backlog of ${total} gone in ${formatSeconds(round.drainMs)}`,
          },
          {
            label: `${round.label}: messages per instance`,
            value: Object.entries(round.shares)
              .map(([label, n]) => `${label} ${n}`)
              .join(', '),
          },
        ])
        .concat([{ label: 'speed-up', value: gain ? `x${gain.toFixed(2)}` : 'n/a' }]),
      checks: [
        ...rounds.map((round) =>
          check(
            `${round.label}: every order of the backlog invoiced exactly once`,
            round.invoices.orders === total && round.invoices.rows === total,
            `${round.invoices.rows} invoices for ${round.invoices.orders} of ${total}`,
          ),
        ),
        check(
          `${many?.label}: the instances competed, each took a share`,
          many !== undefined && fairShare(many),
          Object.entries(many?.shares ?? {})
            .map(([label, n]) => `${label} ${n}`)
            .join(', '),
        ),
        check(
          `${many?.label} drained the backlog faster than ${one?.label}`,
          gain !== undefined && gain >= 1.3,
          gain ? `x${gain.toFixed(2)}` : 'no rate measured',
        ),
      ],
      charts: [
        {
          file: 'scale-throughput',
          title: 'Scale: throughput of one and of several instances',
          spec: scaleChart(
            rounds.map((round) => ({
              label: round.label,
              processed: round.processed,
              rate: round.rate,
            })),
            total,
          ),
        },
      ],
    };
  },
};

async function runRound(
  { system, queues, config, progress, say }: ScenarioContext,
  instances: number,
): Promise<Round> {
  const total = config.DEMO_SCALE_ORDERS;
  const label = instances === 1 ? '1 instance' : `${instances} instances`;
  const books = new Books(system);
  await system.stop('invoicing');
  const ids: string[] = [];
  await placeOrders(system.url('order'), total, {
    concurrency: 24,
    onPlaced: (id, n) => {
      ids.push(id);
      progress.update(
        `${bar(n, total)} ${label}: building a backlog, placed ${n}/${total} with Invoicing stopped`,
      );
    },
  });
  await waitFor(
    `a backlog of ${total} in ${QUEUE}`,
    async () => {
      const depth = await queues.depth(QUEUE);
      progress.update(`${bar(depth, total)} ${label}: backlog in ${QUEUE}: ${depth}/${total}`);
      return depth >= total;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  progress.done(`${bar(total, total)} ${label}: backlog of ${total} waiting in ${QUEUE}`);
  const sampler = new Sampler(async () => {
    const [depth, invoices] = await Promise.all([
      queues.depth(QUEUE),
      books.tally('invoices', ids),
    ]);
    progress.update(
      `${bar(invoices.orders, total)} ${label}: invoiced ${invoices.orders}/${total}  waiting in ${QUEUE}: ${depth}`,
    );
    return { depth, value: invoices.orders };
  }, 50).start();
  const started = await system.start('invoicing', {
    instances,
    env: {
      FAULT_HANDLER_DELAY_MS: String(config.DEMO_SCALE_DELAY_MS),
      FAULT_MESSAGE_TYPES: 'NewOrder',
      PREFETCH: '1',
    },
  });
  await waitFor('the backlog to be invoiced', () => sampler.latest?.value === total, {
    timeoutMs: 120_000,
    intervalMs: 50,
  });
  await sampler.stop();
  const processed = fromFirstRise(sampler.samples.map(({ t, value }) => ({ t, value })));
  const rate = steadyRate(processed, total);
  const drainMs = processed.find((p) => p.value >= total)?.t;
  const round = new Set(ids);
  const shares = Object.fromEntries(
    started.map((instance) => [
      instance.label,
      handledBy([instance]).filter(
        (entry) => entry.queue === QUEUE && round.has(entry.correlationId),
      ).length,
    ]),
  );
  const invoices = await books.tally('invoices', ids);
  progress.done(
    `${bar(total, total)} ${label}: ${formatRate(rate)}, backlog gone in ${formatSeconds(drainMs)}`,
  );
  if (instances > 1) {
    say(
      `  messages per instance: ${Object.entries(shares)
        .map(([l, n]) => `${l} ${n}`)
        .join(', ')}`,
    );
  }
  return { instances, label, processed, rate, drainMs, invoices, shares };
}
