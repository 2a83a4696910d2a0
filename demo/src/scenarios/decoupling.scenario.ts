import { request, waitFor } from '@app/testing';
import { Books, placeOrders } from '../orders';
import { check, type Scenario } from '../scenario';

const QUEUE = 'statistics.new-order';

export const decoupling: Scenario = {
  id: 'decoupling',
  title: 'Decoupling',
  summary: 'Statistics deployed late, Order untouched',
  shows:
    'Statistics is deployed late, while Order keeps running untouched. Orders placed before ' +
    'its queue existed never reach it (an exchange stores nothing; only queues buffer), and ' +
    'every order placed after it started is counted.',
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
    return {
      headline: `Statistics deployed late: counted ${countedLate.orders}/${batch} orders after, ${countedEarly.orders}/${batch} before; Order untouched`,
      figures: [
        { label: 'orders before Statistics (completed)', value: `${earlyCompleted} of ${batch}` },
        { label: 'of those, counted by Statistics', value: String(countedEarly.orders) },
        {
          label: 'orders after Statistics was deployed, counted',
          value: `${countedLate.orders} of ${batch}`,
        },
        { label: 'GET /statistics orders', value: String(statistics.orders) },
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
          orderUntouched,
          `pid ${orderPid} -> ${orderNow?.pid}`,
        ),
      ],
    };
  },
};
