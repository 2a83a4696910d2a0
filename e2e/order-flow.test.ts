import { anOrderRequest, request, startSystem, waitFor, type RunningSystem } from '@app/testing';

/**
 * The four services as real processes on a real broker and real databases: an order
 * placed over HTTP flows through the NewOrder event to Invoicing, Shipping and
 * Statistics, and their outcome events bring it to COMPLETED.
 */
describe('end to end: the NewOrder event flow', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_flow' });
  });

  afterAll(async () => {
    await system?.teardown();
  });

  test('when an order is placed, then it completes with exactly one invoice, one shipment and one count in statistics', async () => {
    const { order, invoicing, shipping, statistics } = system.services;
    const body = anOrderRequest();

    const placed = await request(`${order.url}/orders`, { body });

    expect(placed.status).toBe(202);
    expect(placed.headers.get('location')).toBe(`/orders/${placed.body.id}`);
    const orderId: string = placed.body.id;
    const completed = await waitFor('the order to complete', async () => {
      const current = await request(`${order.url}/orders/${orderId}`);
      return current.body.status === 'COMPLETED' ? current.body : undefined;
    });
    const invoices = await request(`${invoicing.url}/invoices?orderId=${orderId}`);
    const shipments = await request(`${shipping.url}/shipments?orderId=${orderId}`);
    const stats = await request(`${statistics.url}/statistics`);
    expect(invoices.body).toHaveLength(1);
    expect(shipments.body).toHaveLength(1);
    expect(completed).toMatchObject({
      invoiceId: invoices.body[0].id,
      shipmentId: shipments.body[0].id,
      totalCents: 2 * 1_250 + 399,
    });
    expect(invoices.body[0]).toMatchObject({
      orderId,
      totalCents: 2 * 1_250 + 399,
      currency: 'EUR',
    });
    expect(shipments.body[0]).toMatchObject({
      orderId,
      items: body.items,
      shippingAddress: body.shippingAddress,
    });
    expect(stats.body).toMatchObject({ orders: 1, revenueCents: 2 * 1_250 + 399, itemsSold: 3 });
  });

  test('when twenty orders are placed at once, then each completes exactly once in every service', async () => {
    const { order, invoicing, shipping, statistics } = system.services;
    const before = (await request(`${statistics.url}/statistics`)).body.orders as number;

    const placed = await Promise.all(
      Array.from({ length: 20 }, () => request(`${order.url}/orders`, { body: anOrderRequest() })),
    );

    const ids = placed.map((response) => response.body.id as string);
    await waitFor('every order to complete', async () => {
      const states = await Promise.all(ids.map((id) => request(`${order.url}/orders/${id}`)));
      return states.every((state) => state.body.status === 'COMPLETED');
    });
    for (const id of ids) {
      expect((await request(`${invoicing.url}/invoices?orderId=${id}`)).body).toHaveLength(1);
      expect((await request(`${shipping.url}/shipments?orderId=${id}`)).body).toHaveLength(1);
    }
    await waitFor('statistics to count every order', async () => {
      const stats = await request(`${statistics.url}/statistics`);
      return stats.body.orders === before + 20;
    });
  });

  test('when a service is asked to stop, then it exits 0 and its logs carry the correlation id of the orders it handled', async () => {
    const { order } = system.services;
    const placed = await request(`${order.url}/orders`, { body: anOrderRequest() });
    await waitFor(
      'the order to complete',
      async () =>
        (await request(`${order.url}/orders/${placed.body.id}`)).body.status === 'COMPLETED',
    );
    const invoicing = system.services.invoicing;

    const exitCode = await invoicing.stop();

    expect(exitCode).toBe(0);
    expect(invoicing.logs.some((line) => line.msg === 'shutting down')).toBe(true);
    expect(order.logs).toContainEqual(
      expect.objectContaining({ msg: 'order placed', correlationId: placed.body.id }),
    );
    expect(invoicing.logs).toContainEqual(
      expect.objectContaining({
        msg: 'invoice issued',
        correlationId: placed.body.id,
        type: 'NewOrder',
      }),
    );
    await system.restart('invoicing');
  });
});
