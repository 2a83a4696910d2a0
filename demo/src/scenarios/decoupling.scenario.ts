import { request, waitFor, type RunningSystem } from '@app/testing';
import { Books, placeOrders } from '../orders';
import { check, type Scenario } from '../scenario';

const QUEUE = 'statistics.new-order';
const QUEUES = [QUEUE, 'statistics.order-cancelled'];
const HISTORY = 'order.events.history';

/** The sum of a counter's samples for `queue` and `outcome` in Statistics' `/metrics`. */
async function statisticsCounter(
  system: RunningSystem,
  name: string,
  outcome: string,
): Promise<number> {
  const metrics = String((await request(`${system.url('statistics')}/metrics`)).body);
  let total = 0;
  for (const [, labels = '', value] of metrics.matchAll(
    new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'),
  )) {
    if (labels.includes(`queue="${QUEUE}"`) && labels.includes(`outcome="${outcome}"`))
      total += Number(value);
  }
  return total;
}

export const decoupling: Scenario = {
  id: 'decoupling',
  title: 'Decoupling',
  summary: 'Statistics deployed late, Order untouched',
  shows:
    'Statistics is deployed late, while Order keeps running untouched. Orders placed before ' +
    'its queue existed never reach it (an exchange stores nothing; only queues buffer), and ' +
    'every order placed after it started is counted. Then it is deployed late again, this ' +
    `time with backfill: it catches up from ${HISTORY}, a stream that keeps every event of ` +
    'order.events, and counts every order, those placed before it existed included, none twice.',
  async run({ system, queues, config, progress, say }) {
    const batch = config.DEMO_DECOUPLING_ORDERS;
    await system.ensureRunning(['order', 'invoicing', 'shipping']);
    const books = new Books(system);
    const order = system.instances('order')[0];
    const orderPid = order?.pid;

    progress.update('taking Statistics away ...');
    await system.stop('statistics');
    await queues.delete(QUEUE);
    await system.recreateDatabase('statistics');
    const queueBefore = await queues.exists(QUEUE);
    say(
      `  Statistics is not deployed: no process, no ${QUEUE} queue, an empty database. Order (pid ${orderPid}) keeps running.`,
    );

    const early = await placeOrders(system.url('order'), batch, {
      onPlaced: (_, n) => progress.update(`placing ${n}/${batch} orders before Statistics exists`),
    });
    await waitFor(
      'the early orders to complete',
      async () => {
        const completed = await books.completed(early);
        progress.update(`${completed}/${batch} early orders completed, without Statistics`);
        return completed === batch;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const earlyCompleted = await books.completed(early);
    const queueAfterEarly = await queues.exists(QUEUE);
    progress.done(
      `${earlyCompleted}/${batch} orders placed and completed before Statistics existed`,
    );

    say(
      '  Deploying Statistics: it declares its queue and binds it to order.events. Order is not told.',
    );
    await system.start('statistics');
    const late = await placeOrders(system.url('order'), batch, {
      onPlaced: (_, n) => progress.update(`placing ${n}/${batch} orders after Statistics started`),
    });
    await waitFor(
      'Statistics to count the late orders',
      async () => {
        const counted = await books.tally('counted', late);
        progress.update(
          `Statistics counted ${counted.orders}/${batch} of the orders placed after it started`,
        );
        return counted.orders === batch && (await books.completed(late)) === batch;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const countedLate = await books.tally('counted', late);
    const countedEarly = await books.tally('counted', early);
    const statistics = (await request(`${system.url('statistics')}/statistics`)).body;
    const orderNow = system.instances('order')[0];
    const orderUntouched = orderNow === order && orderNow?.pid === orderPid;
    progress.done(
      `Statistics counted ${countedLate.orders}/${batch} later orders, ${countedEarly.orders}/${batch} earlier ones`,
    );
    say(
      `  GET /statistics: orders ${statistics.orders}. The ${batch} earlier orders are not lost to Invoicing and ` +
        'Shipping, but Statistics never heard of them: to count them it would need a replay from ' +
        'Order’s records, not from the broker.',
    );

    // The same late deployment, with backfill from Order's event history.
    progress.update('taking Statistics away again ...');
    await system.stop('statistics');
    for (const queue of QUEUES) await queues.delete(queue);
    await system.recreateDatabase('statistics');
    say(
      `  Statistics taken away again (no process, no queues, an empty database). This time it will catch up from ${HISTORY}, a stream bound to order.events that keeps every event (7 days, 1 GB).`,
    );
    const before = await placeOrders(system.url('order'), batch, {
      onPlaced: (_, n) => progress.update(`placing ${n}/${batch} orders before Statistics exists`),
    });
    await waitFor('the orders before the backfill to complete', async () => {
      const completed = await books.completed(before);
      progress.update(`${completed}/${batch} orders completed, without Statistics`);
      return completed === batch;
    });
    progress.done(`${batch} more orders placed and completed before Statistics existed`);
    say(
      '  Deploying Statistics with STATISTICS_BACKFILL=true: it binds its queues first (new orders wait there), reads the history from its first offset up to the seam with its queue, then consumes the queue. An order seen on both sides of the seam is absorbed by the inbox.',
    );
    const starting = system.start('statistics', { env: { STATISTICS_BACKFILL: 'true' } });
    const during = await placeOrders(system.url('order'), batch, {
      onPlaced: (_, n) =>
        progress.update(`placing ${n}/${batch} orders while Statistics starts and backfills`),
    });
    await starting;
    const everyOrder = [...early, ...late, ...before, ...during];
    await waitFor(
      'Statistics to count every order of this scenario',
      async () => {
        const counted = await books.tally('counted', everyOrder);
        progress.update(
          `Statistics (backfilled) counted ${counted.orders}/${everyOrder.length} of this scenario's orders`,
        );
        return counted.orders === everyOrder.length;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    ).catch(() => undefined);
    // Every order Order ever published as NewOrder in this run, earlier scenarios included.
    const published = async () =>
      Number(
        (
          await system.databases.order.query<{ n: string }>(
            `SELECT count(*) AS n FROM orders WHERE style::text = 'event'`,
          )
        )[0]?.n ?? 0,
      );
    const totals = async () =>
      Number((await request(`${system.url('statistics')}/statistics`)).body.orders);
    await waitFor(
      'GET /statistics to count every published order',
      async () => (await totals()) >= (await published()),
    ).catch(() => undefined);
    const backfilledBefore = await books.tally('counted', [...early, ...before]);
    const backfilledDuring = await books.tally('counted', during);
    const backfilledAll = await books.tally('counted', everyOrder);
    const publishedNow = await published();
    const totalNow = await totals();
    const fromHistory = await statisticsCounter(system, 'messages_backfilled_total', 'processed');
    const absorbed =
      (await statisticsCounter(system, 'messages_backfilled_total', 'duplicate')) +
      (await statisticsCounter(system, 'messages_consumed_total', 'duplicate'));
    progress.done(
      `Statistics with backfill counted ${backfilledAll.orders}/${everyOrder.length} of this scenario's orders; GET /statistics ${totalNow} of ${publishedNow} published`,
    );
    say(
      `  With backfill: ${fromHistory} orders counted from the history, ${absorbed} seen on both sides of the seam and absorbed by the inbox. GET /statistics: orders ${totalNow}, Order published ${publishedNow} NewOrder events in this run.`,
    );
    const orderAfter = system.instances('order')[0];
    const orderStillUntouched = orderAfter === order && orderAfter?.pid === orderPid;

    return {
      headline: `Statistics deployed late: counted ${countedLate.orders}/${batch} orders after, ${countedEarly.orders}/${batch} before; with backfill ${backfilledAll.orders}/${everyOrder.length}, none twice; Order untouched`,
      figures: [
        { label: 'orders before Statistics (completed)', value: `${earlyCompleted} of ${batch}` },
        { label: 'of those, counted by Statistics', value: String(countedEarly.orders) },
        {
          label: 'orders after Statistics was deployed, counted',
          value: `${countedLate.orders} of ${batch}`,
        },
        { label: 'GET /statistics orders', value: String(statistics.orders) },
        {
          label: 'with backfill: orders before it existed, counted',
          value: `${backfilledBefore.orders} of ${2 * batch}`,
        },
        {
          label: 'with backfill: orders placed while it started, counted',
          value: `${backfilledDuring.orders} of ${batch}`,
        },
        { label: 'with backfill: counted from the history', value: String(fromHistory) },
        { label: 'with backfill: duplicates absorbed at the seam', value: String(absorbed) },
        {
          label: 'with backfill: GET /statistics orders / NewOrder published in this run',
          value: `${totalNow} / ${publishedNow}`,
        },
        { label: 'Order process', value: `pid ${orderPid}, running throughout, not reconfigured` },
      ],
      checks: [
        check(
          'orders placed before Statistics existed completed without it',
          earlyCompleted === batch && !queueBefore && !queueAfterEarly,
          `${earlyCompleted} of ${batch}; ${QUEUE} existed: ${queueBefore || queueAfterEarly}`,
        ),
        check(
          'Statistics counted every order placed after it was deployed',
          countedLate.orders === batch && countedLate.rows === batch,
          `${countedLate.rows} counts for ${countedLate.orders} of ${batch}`,
        ),
        check(
          'Statistics never saw the orders published before its queue existed',
          countedEarly.rows === 0,
          `${countedEarly.rows} counted`,
        ),
        check(
          'Order was not touched (same process, no restart, no new configuration)',
          orderUntouched && orderStillUntouched,
          `pid ${orderPid} -> ${orderNow?.pid} -> ${orderAfter?.pid}`,
        ),
        check(
          'with backfill, Statistics counted every order placed before it existed, once',
          backfilledBefore.orders === 2 * batch && backfilledBefore.rows === 2 * batch,
          `${backfilledBefore.rows} counts for ${backfilledBefore.orders} of ${2 * batch}`,
        ),
        check(
          'with backfill, Statistics counted every order placed while it started and after',
          backfilledAll.orders === everyOrder.length && backfilledDuring.orders === batch,
          `${backfilledAll.orders} of ${everyOrder.length}`,
        ),
        check(
          'with backfill, none was counted twice: GET /statistics equals the NewOrder events Order published',
          totalNow === publishedNow,
          `${totalNow} counted, ${publishedNow} published`,
        ),
      ],
    };
  },
};
