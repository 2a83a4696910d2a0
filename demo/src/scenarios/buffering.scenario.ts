import { waitFor } from '@app/testing';
import { bufferingChart } from '../charts';
import { Books, placeOrders } from '../orders';
import { bar } from '../progress';
import { drainedAt, formatRate, formatSeconds, peakOf, perSecond, steadyRate } from '../rates';
import { Sampler } from '../sampler';
import { check, type Scenario } from '../scenario';
import { SERVICE_PREFETCH } from '../system';

const QUEUE = 'invoicing.new-order';

export const buffering: Scenario = {
  id: 'buffering',
  title: 'Buffering',
  summary: 'a spike absorbed by the queue while Invoicing is slow',
  shows:
    'Invoicing is made slow and a spike of orders arrives at once. The invoicing queue absorbs ' +
    'the spike: its depth rises, then drains at Invoicing’s pace, and every order gets its invoice.',
  async run({ system, queues, config, progress, say }) {
    const total = config.DEMO_BUFFERING_ORDERS;
    const delayMs = config.DEMO_BUFFERING_DELAY_MS;
    await system.ensureRunning();
    const books = new Books(system);
    const ids: string[] = [];
    // A batch of up to PREFETCH deliveries waits the delay once, and two batches run at once.
    const pace = delayMs > 0 ? Math.round((2 * SERVICE_PREFETCH * 1000) / delayMs) : undefined;
    say(
      `  Invoicing now takes ${delayMs} ms per NewOrder (PUT /admin/faults; batches of up to ${SERVICE_PREFETCH}, two at a time, ` +
        `${pace ? `at most ~${pace} orders/s` : 'no limit'}). Placing ${total} orders as fast as the API takes them.`,
    );
    await system.setFaults('invoicing', { handlerDelayMs: delayMs, messageTypes: ['NewOrder'] });
    let placed = 0;
    const sampler = new Sampler(async () => {
      const [depth, invoices] = await Promise.all([
        queues.depth(QUEUE),
        ids.length > 0 ? books.tally('invoices', ids) : { orders: 0 },
      ]);
      const sample = { depth, placed, invoiced: invoices.orders };
      progress.update(
        `${bar(sample.invoiced, total)} placed ${placed}/${total}  ` +
          `waiting in ${QUEUE}: ${String(depth).padStart(4)}  invoiced ${sample.invoiced}/${total}`,
      );
      return sample;
    }).start();
    try {
      const placing = Date.now();
      await placeOrders(system.url('order'), total, {
        concurrency: 24,
        onPlaced: (id, n) => {
          ids.push(id);
          placed = n;
        },
      });
      const placedMs = Date.now() - placing;
      await waitFor(
        'every order of the spike to be invoiced',
        () => sampler.latest?.invoiced === total && sampler.latest.depth === 0,
        { timeoutMs: 30_000 + (total * delayMs) / SERVICE_PREFETCH, intervalMs: 100 },
      );
      await sampler.stop();
      const samples = sampler.samples;
      const depths = samples.map((s) => ({ t: s.t, value: s.depth }));
      const peak = peakOf(depths);
      const drained = drainedAt(depths);
      const invoices = await books.tally('invoices', ids);
      const invoicingRate = steadyRate(
        samples.map((s) => ({ t: s.t, value: s.invoiced })),
        total,
      );
      progress.done(
        `${bar(total, total)} placed ${total}/${total}  peak ${peak?.value ?? 0} waiting  invoiced ${invoices.orders}/${total}`,
      );
      const floor = Math.max(5, Math.round(total / 10));
      return {
        headline: `${total} orders in ${formatSeconds(placedMs)}; queue peaked at ${peak?.value ?? 0}, drained after ${formatSeconds(drained)}; ${invoices.orders}/${total} invoiced`,
        figures: [
          {
            label: 'orders placed',
            value: `${total} in ${formatSeconds(placedMs)} (${formatRate(perSecond(total, placedMs))})`,
          },
          {
            label: 'Invoicing pace',
            value: `${formatRate(invoicingRate)} (${delayMs} ms per message)`,
          },
          {
            label: `peak depth of ${QUEUE}`,
            value: `${peak?.value ?? 0} messages at ${formatSeconds(peak?.t)}`,
          },
          { label: 'queue empty again after', value: formatSeconds(drained) },
          {
            label: 'invoices',
            value: `${invoices.rows} for ${invoices.orders} of ${total} orders`,
          },
          { label: 'depth samples', value: `${samples.length} (every 100 ms, passive declare)` },
        ],
        checks: [
          check(
            `the queue absorbed the spike (depth rose to at least ${floor})`,
            (peak?.value ?? 0) >= floor,
            `peak ${peak?.value ?? 0}`,
          ),
          check(
            'the queue drained back to empty',
            drained !== undefined,
            `last depth ${depths.at(-1)?.value}`,
          ),
          check(
            'every order got exactly one invoice',
            invoices.orders === total && invoices.rows === total,
            `${invoices.rows} invoices for ${invoices.orders} of ${total} orders`,
          ),
        ],
        charts: [
          {
            file: 'buffering-queue-depth',
            title: 'Buffering: queue depth over time',
            spec: bufferingChart(samples, QUEUE),
          },
        ],
      };
    } finally {
      await sampler.stop();
      await system.setFaults('invoicing').catch(() => undefined);
    }
  },
};
