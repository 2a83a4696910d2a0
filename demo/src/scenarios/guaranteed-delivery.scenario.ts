import { waitFor } from '@app/testing';
import { deliveryChart } from '../charts';
import { Books, formatStatuses, placeOrders } from '../orders';
import { bar } from '../progress';
import { formatSeconds, peakOf } from '../rates';
import { Sampler } from '../sampler';
import { check, type Scenario } from '../scenario';

const QUEUE = 'shipping.new-order';

export const guaranteedDelivery: Scenario = {
  id: 'guaranteed-delivery',
  title: 'Guaranteed delivery',
  summary: 'Shipping down: messages wait, then each order ships once',
  shows:
    'Shipping is stopped while orders are placed: its queue keeps every NewOrder. When Shipping ' +
    'starts again it works through all of them, and each order is shipped exactly once.',
  async run({ system, queues, config, progress, say }) {
    const total = config.DEMO_DELIVERY_ORDERS;
    await system.ensureRunning();
    const books = new Books(system);
    const ids: string[] = [];
    const marks: { t: number; label: string }[] = [];
    let phase = 'Shipping running';
    const sampler = new Sampler(async () => {
      const [depth, shipments] = await Promise.all([
        queues.depth(QUEUE),
        ids.length > 0 ? books.tally('shipments', ids) : { orders: 0 },
      ]);
      progress.update(
        `${bar(shipments.orders, total)} ${phase}  placed ${ids.length}/${total}  ` +
          `waiting in ${QUEUE}: ${String(depth).padStart(4)}  shipped ${shipments.orders}/${total}`,
      );
      return { depth, shipped: shipments.orders };
    }).start();
    try {
      await system.stop('shipping');
      marks.push({ t: sampler.now(), label: 'Shipping stopped' });
      phase = 'Shipping DOWN';
      say(`  Shipping stopped (SIGTERM). Placing ${total} orders ...`);
      await placeOrders(system.url('order'), total, { onPlaced: (id) => ids.push(id) });
      await waitFor(
        `all ${total} NewOrder messages to wait in ${QUEUE}`,
        () => sampler.latest !== undefined && sampler.latest.depth >= total,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      // The rest of the system carries on: every order is invoiced (and Order hears of it).
      await waitFor(
        'every order to be INVOICED while Shipping is down',
        async () => (await books.statuses(ids)).INVOICED === total,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const whileDown = await books.statuses(ids);
      const shippedWhileDown = (await books.tally('shipments', ids)).orders;
      progress.done();
      say(
        `  While Shipping is down: ${sampler.latest?.depth} messages wait in ${QUEUE}; orders: ${formatStatuses(whileDown)}.`,
      );
      say('  Starting Shipping again ...');
      const restarting = sampler.now();
      phase = 'Shipping back';
      marks.push({ t: restarting, label: 'Shipping started' });
      await system.start('shipping');
      await waitFor(
        'every order to be shipped and completed',
        async () =>
          sampler.latest?.shipped === total &&
          sampler.latest.depth === 0 &&
          (await books.completed(ids)) === total,
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      const caughtUpMs = sampler.now() - restarting;
      await sampler.stop();
      const peak = peakOf(sampler.samples.map((s) => ({ t: s.t, value: s.depth })));
      const shipments = await books.tally('shipments', ids);
      const completed = await books.completed(ids);
      progress.done(
        `${bar(total, total)} Shipping back  shipped ${shipments.orders}/${total}  completed ${completed}/${total}`,
      );
      return {
        headline: `${peak?.value ?? 0} messages waited while Shipping was down; ${shipments.orders}/${total} shipped once, ${formatSeconds(caughtUpMs)} after restart`,
        figures: [
          { label: 'orders placed while Shipping was down', value: String(total) },
          { label: `peak depth of ${QUEUE}`, value: `${peak?.value ?? 0} messages` },
          { label: 'orders while Shipping was down', value: formatStatuses(whileDown) },
          { label: 'caught up after restart (incl. start-up)', value: formatSeconds(caughtUpMs) },
          {
            label: 'shipments',
            value: `${shipments.rows} for ${shipments.orders} of ${total} orders`,
          },
          { label: 'orders COMPLETED', value: `${completed} of ${total}` },
        ],
        checks: [
          check(
            `while Shipping was down its queue held every message (${total})`,
            (peak?.value ?? 0) >= total && shippedWhileDown === 0,
            `peak ${peak?.value ?? 0}, shipped while down ${shippedWhileDown}`,
          ),
          check(
            'after the restart every order was shipped exactly once',
            shipments.orders === total && shipments.rows === total,
            `${shipments.rows} shipments for ${shipments.orders} of ${total} orders`,
          ),
          check('every order COMPLETED', completed === total, `${completed} of ${total}`),
        ],
        charts: [
          {
            file: 'guaranteed-delivery-queue-depth',
            title: 'Guaranteed delivery: queue depth over time',
            spec: deliveryChart(sampler.samples, marks, QUEUE),
          },
        ],
      };
    } finally {
      await sampler.stop();
      await system.ensureRunning(['shipping']);
    }
  },
};
