import { ServiceNames } from '@app/contracts';
import { anOrderRequest, request, startSystem, waitFor, type RunningSystem } from '@app/testing';

// The whole system as `make up` runs it (each service its own broker user and database),
// with __Name__ deployed late: Order announces NewOrder and __Name__ hears it, though Order
// was never told __Name__ exists, and catches up on what was announced before it came.
describe('__name__ beside the other services', () => {
  let system: RunningSystem;
  let earlier: string;

  beforeAll(async () => {
    system = await startSystem({
      label: '__name___system',
      leastPrivilege: true,
      services: ServiceNames.filter((service) => service !== '__name__'),
    });
    earlier = await place('event');
    await completed(earlier);
    await system.recreateDatabase('__name__');
    await system.start('__name__');
  });

  afterAll(async () => {
    await system?.teardown();
  });

  async function place(style: 'event' | 'command'): Promise<string> {
    const response = await request(`${system.url('order')}/orders`, {
      body: anOrderRequest({ style }),
    });
    expect(response.status).toBe(202);
    return response.body.id as string;
  }

  const completed = (orderId: string) =>
    waitFor(`order ${orderId} to complete`, async () => {
      const response = await request(`${system.url('order')}/orders/${orderId}`);
      return response.body.status === 'COMPLETED';
    });

  const recorded = (orderId: string) =>
    waitFor(`__name__ to record order ${orderId}`, async () => {
      const response = await request(`${system.url('__name__')}/__name__/orders/${orderId}`);
      return response.status === 200 ? response.body : undefined;
    });

  test('when an order was placed before __name__ was deployed, then __name__ records it from the history', async () => {
    expect(await recorded(earlier)).toMatchObject({ orderId: earlier });
  });

  test('when an order is placed in event style, then __name__ records it once in its own database', async () => {
    const orderId = await place('event');

    expect(await recorded(orderId)).toMatchObject({ orderId });
    expect(
      await system.databases.__name__.query(
        'SELECT order_id FROM __name___points WHERE order_id = $1',
        [orderId],
      ),
    ).toHaveLength(1);
  });

  test('when an order is placed in command style, then __name__ never hears of it: Order sends its commands to receivers it names', async () => {
    const orderId = await place('command');
    await completed(orderId);
    // One queue delivers in order: once a later event-style order is recorded, an
    // announcement of the command-style one, had there been any, would have been handled.
    await recorded(await place('event'));

    expect((await request(`${system.url('__name__')}/__name__/orders/${orderId}`)).status).toBe(
      404,
    );
  });
});
