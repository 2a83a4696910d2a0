#!/usr/bin/env node
// Drives the compose system through its published ports, the way a user would with curl:
// one order per style (event, command) to COMPLETED, then exactly one invoice and one
// shipment per order, and Statistics counting the event-style order (and only it).
// Expects empty databases (a fresh compose project). Exit code 0 when everything held.
//   ORDER_PORT=3001 INVOICING_PORT=3002 SHIPPING_PORT=3003 STATISTICS_PORT=3004 PAYMENT_PORT=3005 \
//     node scripts/docker/smoke.mjs
const host = process.env.SMOKE_HOST ?? '127.0.0.1';
const base = (name, port) => `http://${host}:${process.env[`${name}_PORT`] ?? port}`;
const ORDER = base('ORDER', 3001);
const INVOICING = base('INVOICING', 3002);
const SHIPPING = base('SHIPPING', 3003);
const STATISTICS = base('STATISTICS', 3004);
const PAYMENT = base('PAYMENT', 3005);
const TIMEOUT_MS = Number(process.env.SMOKE_TIMEOUT_S ?? 60) * 1000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`  ok  ${message}`);
}

async function getJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = await response.json().catch(() => undefined);
  if (!response.ok)
    throw new Error(`GET ${url} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

async function placeOrder(style) {
  const response = await fetch(`${ORDER}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      customerId: `compose-test-${style}`,
      items: [{ sku: 'BOOK-1', quantity: 2, unitPriceCents: style === 'event' ? 1250 : 990 }],
      shippingAddress: {
        name: 'Ada Lovelace',
        street: '12 St James Square',
        city: 'London',
        postalCode: 'SW1Y 4JH',
        country: 'GB',
      },
      style,
    }),
    signal: AbortSignal.timeout(5000),
  });
  const body = await response.json();
  check(response.status === 202, `POST /orders (${style}) answered 202 (got ${response.status})`);
  check(body.style === style, `order ${body.id} travels as ${style}`);
  return body;
}

async function untilCompleted(id) {
  const deadline = Date.now() + TIMEOUT_MS;
  let order;
  while (Date.now() < deadline) {
    order = await getJson(`${ORDER}/orders/${id}`);
    if (order.status === 'COMPLETED' || order.status === 'FAILED') break;
    await sleep(250);
  }
  check(order?.status === 'COMPLETED', `order ${id} reached COMPLETED (status ${order?.status})`);
  return order;
}

async function main() {
  const placed = {};
  for (const style of ['event', 'command']) placed[style] = await placeOrder(style);
  for (const style of ['event', 'command']) {
    const order = await untilCompleted(placed[style].id);
    const invoices = await getJson(`${INVOICING}/invoices?orderId=${order.id}`);
    check(
      invoices.length === 1 && invoices[0].id === order.invoiceId,
      `${style}: exactly one invoice, the one the order names (${invoices.length} found)`,
    );
    const shipments = await getJson(`${SHIPPING}/shipments?orderId=${order.id}`);
    check(
      shipments.length === 1 && shipments[0].id === order.shipmentId,
      `${style}: exactly one shipment, the one the order names (${shipments.length} found)`,
    );
  }
  // Payment answers on its published port (what it decides per order is its own tests' job).
  const payments = await getJson(`${PAYMENT}/payments?orderId=${placed.event.id}`);
  check(
    Array.isArray(payments),
    `payment answers GET /payments?orderId= (${payments.length} found)`,
  );
  // Statistics hears NewOrder events only: the event-style order, not the command-style one.
  const deadline = Date.now() + TIMEOUT_MS;
  let statistics;
  do {
    statistics = await getJson(`${STATISTICS}/statistics`);
    if (statistics.orders >= 1) break;
    await sleep(250);
  } while (Date.now() < deadline);
  check(
    statistics.orders === 1 && statistics.revenueCents === placed.event.totalCents,
    `statistics counted the event-style order only (orders ${statistics.orders}, revenue ${statistics.revenueCents})`,
  );
}

main().then(
  () => console.log('compose smoke test passed'),
  (error) => {
    console.error(`compose smoke test FAILED: ${error.message}`);
    process.exit(1);
  },
);
