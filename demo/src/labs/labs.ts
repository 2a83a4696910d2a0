import {
  isReady,
  metricValue,
  metricsOf,
  ordersSince,
  plural,
  rowsPerOrder,
  verdict,
  type Lab,
  type LabOrder,
  type LabTarget,
} from './lab';

/**
 * The eight labs of docs/workshop/labs/, each with the check `make lab N` runs. A check
 * reads what the running system shows (databases, /metrics, readiness) about the orders
 * placed since `make lab-reset`; it never changes anything.
 */

/** Orders that ended in a terminal state, by style. */
const finished = (orders: LabOrder[], style: LabOrder['style'], status: string) =>
  orders.filter((order) => order.style === style && order.status === status);

/** Seconds from each order's creation to the first row of `table` for it, in a service. */
async function waits(
  target: LabTarget,
  service: string,
  table: string,
  orders: LabOrder[],
  timeColumn = 'created_at',
): Promise<{ order: LabOrder; rows: number; waitedS: number | undefined }[]> {
  const rows = await rowsPerOrder(
    target,
    service,
    table,
    orders.map((o) => o.id),
    { timeColumn },
  );
  return orders.map((order) => {
    const row = rows.get(order.id);
    return {
      order,
      rows: row?.n ?? 0,
      waitedS: row ? (row.firstAt.getTime() - order.created_at.getTime()) / 1000 : undefined,
    };
  });
}

/** Every order has exactly one row of the effect: the ✓/✗ line for it. */
function exactlyOnce(what: string, effects: { rows: number }[]) {
  const missing = effects.filter((e) => e.rows === 0).length;
  const doubled = effects.filter((e) => e.rows > 1).length;
  return {
    ok: effects.length > 0 && missing === 0 && doubled === 0,
    what: `${plural(effects.length, 'order')}: ${missing} without ${what}, ${doubled} with more than one`,
    hint:
      effects.length === 0
        ? 'No order of this kind was placed since `make lab-reset`: follow the lab’s steps.'
        : missing > 0
          ? `Some orders have no ${what} yet: wait a moment (or start what you stopped) and check again.`
          : `An order has more than one (${what}): that must never happen; tell the trainer.`,
  };
}

export const LABS: Lab[] = [
  {
    number: 1,
    slug: '01-two-styles',
    title: 'One order, two styles: follow the messages',
    async check(target) {
      const orders = await ordersSince(target);
      const event = finished(orders, 'event', 'COMPLETED');
      const command = finished(orders, 'command', 'COMPLETED');
      return verdict([
        {
          ok: event.length > 0,
          what: `${plural(event.length, 'event-style order')} COMPLETED`,
          hint: 'Place an order in the event style: POST /orders with "style": "event" (or the dashboard’s button).',
        },
        {
          ok: command.length > 0,
          what: `${plural(command.length, 'command-style order')} COMPLETED`,
          hint: 'Place an order in the command style: POST /orders with "style": "command".',
        },
      ]);
    },
  },
  {
    number: 2,
    slug: '02-buffering',
    title: 'Buffering: a slow consumer and a spike',
    async check(target) {
      const orders = (await ordersSince(target)).filter((o) => o.style === 'event');
      const invoiced = await waits(target, 'invoicing', 'invoices', orders);
      const waited = invoiced.filter((e) => (e.waitedS ?? 0) >= BUFFERED_S);
      const metrics = await metricsOf(target.url('invoicing'));
      const depth = metrics
        ? metricValue(metrics, 'queue_depth', { queue: 'invoicing.new-order' })
        : undefined;
      return verdict([
        {
          ok: waited.length >= BUFFERED_ORDERS,
          what: `${plural(waited.length, 'order')} waited ${BUFFERED_S} s or more in invoicing.new-order before Invoicing took them (${BUFFERED_ORDERS} needed)`,
          hint: `Make Invoicing slow (dashboard: Invoicing "slow", or PUT /admin/faults {"handlerDelayMs": 1500}), then place a burst of ${BUFFERED_ORDERS * 2} orders and watch the queue grow.`,
        },
        {
          ok: depth === 0,
          what: `invoicing.new-order holds ${depth ?? '?'} messages now`,
          hint: 'The queue has not drained yet: switch Invoicing’s fault off (dashboard: "off") and wait.',
        },
        exactlyOnce('an invoice', invoiced),
      ]);
    },
  },
  {
    number: 3,
    slug: '03-guaranteed-delivery',
    title: 'A consumer down: nothing is lost',
    async check(target) {
      const orders = (await ordersSince(target)).filter((o) => o.style === 'event');
      const shipped = await waits(target, 'shipping', 'shipments', orders);
      const waited = shipped.filter((e) => (e.waitedS ?? 0) >= DOWN_S);
      const up = await isReady(target.url('shipping'));
      return verdict([
        {
          ok: waited.length >= DOWN_ORDERS,
          what: `${plural(waited.length, 'order')} reached Shipping ${DOWN_S} s or more after they were placed (${DOWN_ORDERS} needed)`,
          hint: `Stop Shipping (scripts/services.sh stop shipping), place ${DOWN_ORDERS} orders, look at shipping.new-order, then start Shipping again.`,
        },
        {
          ok: up,
          what: `Shipping is ${up ? 'up' : 'not answering'}`,
          hint: 'Start Shipping again: scripts/services.sh start shipping.',
        },
        exactlyOnce('a shipment', shipped),
        {
          ok: orders.every((o) => o.status === 'COMPLETED'),
          what: `${plural(orders.filter((o) => o.status === 'COMPLETED').length, 'order')} of ${orders.length} COMPLETED`,
          hint: 'Some orders are still in progress: wait until Shipping has worked through its queue.',
        },
      ]);
    },
  },
  {
    number: 4,
    slug: '04-poison-and-replay',
    title: 'A message that cannot be handled: retries, the dead-letter queue and a replay',
    async check(target) {
      const metrics = (await metricsOf(target.url('shipping'))) ?? '';
      const parked = metricValue(metrics, 'messages_consumed_total', {
        queue: 'shipping.ship-order',
        outcome: 'dead-lettered',
      });
      const retried = metricValue(metrics, 'messages_consumed_total', {
        queue: 'shipping.ship-order',
        outcome: 'retried',
      });
      const waiting = metricValue(metrics, 'dead_letters', { queue: 'shipping.ship-order' });
      const orders = (await ordersSince(target)).filter((o) => o.style === 'command');
      const shipped = await waits(target, 'shipping', 'shipments', orders);
      return verdict([
        {
          ok: retried > 0 && parked > 0,
          what: `Shipping retried ShipOrder ${retried} times and parked ${plural(parked, 'message')} in shipping.ship-order.dead`,
          hint: 'Make Shipping fail (dashboard: Shipping "failing"), place a command-style order, and watch its ShipOrder go through the retry queues into shipping.ship-order.dead.',
        },
        {
          ok: parked > 0 && waiting === 0,
          what: `shipping.ship-order.dead holds ${waiting} messages now`,
          hint: 'Switch Shipping back (dashboard: "off"), then replay: RABBITMQ_URL=amqp://shipping:shipping-local-only@127.0.0.1:5672/messaging npm run dead-letters -- replay shipping.ship-order',
        },
        exactlyOnce('a shipment', shipped),
      ]);
    },
  },
  {
    number: 5,
    slug: '05-idempotency',
    title: 'The same message twice: one effect',
    async check(target) {
      const replayed = metricValue(
        (await metricsOf(target.url('order'))) ?? '',
        'order_requests_replayed_total',
      );
      const duplicates = await Promise.all(
        (['invoicing', 'shipping', 'statistics', 'payment'] as const).map(async (service) =>
          metricValue((await metricsOf(target.url(service))) ?? '', 'messages_consumed_total', {
            outcome: 'duplicate',
          }),
        ),
      );
      const absorbed = duplicates.reduce((sum, n) => sum + n, 0);
      const orders = (await ordersSince(target)).filter((o) => o.style === 'event');
      const invoiced = await waits(target, 'invoicing', 'invoices', orders);
      const counted = await waits(target, 'statistics', 'counted_orders', orders, 'counted_at');
      return verdict([
        {
          ok: replayed > 0,
          what: `Order answered ${plural(replayed, 'repeated POST')} with the order placed before (order_requests_replayed_total)`,
          hint: 'POST the same order twice with the same Idempotency-Key header and compare the two answers.',
        },
        {
          ok: absorbed > 0,
          what: `the inboxes absorbed ${plural(absorbed, 'repeated delivery')} (messages_consumed_total{outcome="duplicate"})`,
          hint: 'Send a NewOrder again under its own message id: npm run lab -- resend <orderId> (see the lab).',
        },
        exactlyOnce('an invoice', invoiced),
        exactlyOnce('a count in Statistics', counted),
      ]);
    },
  },
  {
    number: 6,
    slug: '06-competing-consumers',
    title: 'Scaling out: competing consumers on one queue',
    async check(target) {
      const instances = [target.url('invoicing'), ...target.moreInstances('invoicing')];
      const handled = await Promise.all(
        instances.map(async (url) =>
          metricValue((await metricsOf(url)) ?? '', 'messages_consumed_total', {
            queue: 'invoicing.new-order',
            outcome: 'processed',
          }),
        ),
      );
      const working = handled.filter((n) => n >= SHARE).length;
      const orders = (await ordersSince(target)).filter((o) => o.style === 'event');
      const invoiced = await waits(target, 'invoicing', 'invoices', orders);
      return verdict([
        {
          ok: working >= 2,
          what: `NewOrders handled per Invoicing instance: ${instances.map((url, i) => `${url} ${handled[i]}`).join(', ')} (two with ${SHARE} or more needed)`,
          hint: 'Start a second Invoicing on port 3012 (see the lab), place a burst of orders, and see both take a share.',
        },
        exactlyOnce('an invoice', invoiced),
      ]);
    },
  },
  {
    number: 7,
    slug: '07-payment-saga',
    title: 'The payment saga: orchestration and choreography, and compensation',
    async check(target) {
      const orders = await ordersSince(target);
      const cancelled = orders.filter((o) => o.status === 'CANCELLED');
      const ids = cancelled.map((o) => o.id);
      const [invoices, shipments, declined] = await Promise.all([
        target.query<{ order_id: string; status: string }>(
          'invoicing',
          'SELECT order_id::text, status FROM invoices WHERE order_id = ANY($1::uuid[])',
          [ids],
        ),
        target.query<{ order_id: string; status: string }>(
          'shipping',
          'SELECT order_id::text, status FROM shipments WHERE order_id = ANY($1::uuid[])',
          [ids],
        ),
        target.query<{ order_id: string }>(
          'payment',
          `SELECT order_id::text FROM payments WHERE order_id = ANY($1::uuid[]) AND status = 'DECLINED'`,
          [ids],
        ),
      ]);
      const of = (rows: { order_id: string; status: string }[], id: string) =>
        rows.filter((row) => row.order_id === id).map((row) => row.status);
      const declinedIds = new Set(declined.map((row) => row.order_id));
      const compensated = cancelled.filter(
        (o) =>
          o.style === 'event' &&
          declinedIds.has(o.id) &&
          of(invoices, o.id).join() === 'VOIDED' &&
          of(shipments, o.id).join() === 'CANCELLED',
      );
      const neverStarted = cancelled.filter(
        (o) =>
          o.style === 'command' &&
          declinedIds.has(o.id) &&
          of(invoices, o.id).length === 0 &&
          of(shipments, o.id).length === 0,
      );
      return verdict([
        {
          ok: compensated.length > 0,
          what: `${plural(compensated.length, 'declined event-style order')} CANCELLED with its invoice VOIDED and its shipment CANCELLED (compensated)`,
          hint: 'Place an event-style order with "payment": {"cardToken": "tok_declined"} and follow OrderCancelled on the dashboard.',
        },
        {
          ok: neverStarted.length > 0,
          what: `${plural(neverStarted.length, 'declined command-style order')} CANCELLED with no invoice and no shipment (nothing to undo)`,
          hint: 'Place a command-style order with "payment": {"cardToken": "tok_declined"}.',
        },
      ]);
    },
  },
  {
    number: 8,
    slug: '08-new-subscriber',
    title: 'A new subscriber without touching Order',
    async check(target) {
      const orderDiff = (await target.diffStat('services/order')).trim();
      const up = await isReady(target.url('loyalty')).catch(() => false);
      const orders = finished(await ordersSince(target), 'event', 'COMPLETED');
      const points = up
        ? await target
            .query<{ order_id: string; points: number }>(
              'loyalty',
              'SELECT order_id::text, points FROM loyalty_points WHERE order_id = ANY($1::uuid[])',
              [orders.map((o) => o.id)],
            )
            .catch(() => [])
        : [];
      const awarded = new Map(points.map((row) => [row.order_id, row.points]));
      const before = orders.filter((o) => !awarded.has(o.id)).length;
      const zero = points.filter((row) => row.points <= 0).length;
      return verdict([
        {
          ok: up,
          what: `the loyalty service ${up ? 'is up' : 'does not answer'}`,
          hint: 'Generate it (npm run new-service -- loyalty), build and set it up (make setup), start it (scripts/services.sh start loyalty).',
        },
        {
          ok: up && orders.length > 0 && before === 0,
          what: `${awarded.size} of ${plural(orders.length, 'completed event-style order')} have a loyalty record`,
          hint: 'Orders placed before Loyalty existed are missing: let it backfill from order.events.history (see the lab).',
        },
        {
          ok: up && points.length > 0 && zero === 0,
          what: `${plural(zero, 'order')} with no points`,
          hint: 'Make the NewOrder handler award points (one per whole euro): the marked spot in services/loyalty.',
        },
        {
          ok: orderDiff === '',
          what:
            orderDiff === ''
              ? 'services/order is unchanged'
              : `services/order changed: ${orderDiff}`,
          hint: 'The point of the lab: undo your changes to services/order (git checkout services/order).',
        },
      ]);
    },
  },
];

/** Lab 2: orders that waited this long in the queue count as buffered, and how many must. */
export const BUFFERED_S = 2;
export const BUFFERED_ORDERS = 50;
/** Lab 3: orders that reached Shipping this late waited for it, and how many must. */
export const DOWN_S = 5;
export const DOWN_ORDERS = 10;
/** Lab 6: NewOrders each of two instances must have handled. */
export const SHARE = 5;
