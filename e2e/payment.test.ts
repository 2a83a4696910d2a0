import {
  anItem,
  anOrderRequest,
  checkLedger,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
} from '@app/testing';

type Style = 'event' | 'command';

const TERMINAL = ['COMPLETED', 'CANCELLED', 'FAILED'];

describe('end to end: payment, orchestrated (command) and choreographed (event), side by side', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_payment' });
  });

  afterAll(async () => {
    await system?.teardown();
  });

  const place = async (style: Style, body: Record<string, unknown> = {}) => {
    const placed = await request(`${system.services.order.url}/orders`, {
      body: anOrderRequest({ style, ...body }),
    });
    expect(placed.status).toBe(202);
    return placed.body as { id: string; totalCents: number };
  };

  const settled = (orderId: string) =>
    waitFor(`order ${orderId} to end`, async () => {
      const order = await request(`${system.services.order.url}/orders/${orderId}`);
      return TERMINAL.includes(order.body.status) ? order.body : undefined;
    });

  const invoicesOf = async (orderId: string) =>
    (await request(`${system.services.invoicing.url}/invoices?orderId=${orderId}`)).body as {
      status: string;
    }[];
  const shipmentsOf = async (orderId: string) =>
    (await request(`${system.services.shipping.url}/shipments?orderId=${orderId}`)).body as {
      status: string;
    }[];
  const paymentsOf = async (orderId: string) =>
    (await request(`${system.services.payment.url}/payments?orderId=${orderId}`)).body as {
      id: string;
      status: string;
      declineReason?: string;
    }[];

  /** Waits until every queue of the system is idle: nothing ready, nothing unacknowledged. */
  const idle = () =>
    waitFor('every outbox to be sent', async () => {
      for (const db of Object.values(system.databases)) {
        const [row] = await db
          .query<{ n: string }>('SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL')
          .catch(() => [{ n: '0' }]);
        if (Number(row?.n) > 0) return undefined;
      }
      return true;
    });

  describe.each<Style>(['command', 'event'])('%s style', (style) => {
    test('when the card authorizes (tok_visa), then the order completes with one payment, invoice and shipment', async () => {
      const placed = await place(style, { payment: { cardToken: 'tok_visa' } });

      const order = await settled(placed.id);

      expect(order.status).toBe('COMPLETED');
      const [payment, ...morePayments] = await paymentsOf(placed.id);
      expect(morePayments).toEqual([]);
      expect(payment).toMatchObject({ status: 'AUTHORIZED' });
      expect(order.paymentId).toBe(payment?.id);
      expect(await invoicesOf(placed.id)).toEqual([expect.objectContaining({ status: 'ISSUED' })]);
      expect(await shipmentsOf(placed.id)).toEqual([
        expect.objectContaining({ status: 'PREPARED' }),
      ]);
    });

    test('when an order names no payment, then it pays with tok_visa and completes', async () => {
      const placed = await place(style);

      expect((await settled(placed.id)).status).toBe('COMPLETED');
    });

    test.each([
      ['tok_declined', { payment: { cardToken: 'tok_declined' } }, 'card_declined'],
      [
        'tok_insufficient_funds',
        { payment: { cardToken: 'tok_insufficient_funds' } },
        'insufficient_funds',
      ],
      ['an unknown token', { payment: { cardToken: 'tok_made_up' } }, 'card_declined'],
      [
        'an amount over 500000 cents',
        { items: [anItem({ quantity: 1, unitPriceCents: 500_001 })] },
        'amount_over_limit',
      ],
    ])(
      'when the payment is declined (%s), then the order ends CANCELLED with that reason',
      async (_case, body, reason) => {
        const placed = await place(style, body);

        const order = await settled(placed.id);

        expect(order).toMatchObject({ status: 'CANCELLED', cancellationReason: reason });
        expect(await paymentsOf(placed.id)).toEqual([
          expect.objectContaining({ status: 'DECLINED', declineReason: reason }),
        ]);
        await idle();
        if (style === 'command') {
          // Orchestration: nothing was invoiced or shipped before the payment was decided.
          expect(await invoicesOf(placed.id)).toEqual([]);
          expect(await shipmentsOf(placed.id)).toEqual([]);
        } else {
          // Choreography: both acted at once, so both were compensated.
          await waitFor('the invoice to be voided and the shipment cancelled', async () => {
            const invoices = await invoicesOf(placed.id);
            const shipments = await shipmentsOf(placed.id);
            return invoices[0]?.status === 'VOIDED' && shipments[0]?.status === 'CANCELLED'
              ? true
              : undefined;
          });
          expect(await invoicesOf(placed.id)).toHaveLength(1);
          expect(await shipmentsOf(placed.id)).toHaveLength(1);
        }
      },
    );
  });

  test('when one event-style order is declined and one authorized, then Statistics counts both orders, one cancelled, and only the authorized revenue', async () => {
    const { statistics } = system.services;
    await idle();
    const before = (await request(`${statistics.url}/statistics`)).body;
    const paid = await place('event', {
      items: [anItem({ quantity: 1, unitPriceCents: 1_111 })],
    });
    const declined = await place('event', {
      items: [anItem({ quantity: 3, unitPriceCents: 2_000 })],
      payment: { cardToken: 'tok_declined' },
    });
    await settled(paid.id);
    await settled(declined.id);

    const after = await waitFor('statistics to take the cancellation in', async () => {
      const current = (await request(`${statistics.url}/statistics`)).body;
      return current.cancelledOrders === before.cancelledOrders + 1 ? current : undefined;
    });

    expect(after.orders).toBe(before.orders + 2);
    expect(after.revenueCents).toBe(before.revenueCents + 1_111);
  });

  test('when Payment is down while orders of both styles arrive, then they wait, and finish once it is back', async () => {
    await system.stop('payment');
    const waiting = [await place('event'), await place('command')];
    const declinedWhileDown = await place('event', { payment: { cardToken: 'tok_declined' } });

    await waitFor('Invoicing and Shipping to act on the event-style orders', async () =>
      (await invoicesOf(waiting[0]!.id)).length === 1 ? true : undefined,
    );
    for (const order of [...waiting, declinedWhileDown]) {
      const current = await request(`${system.services.order.url}/orders/${order.id}`);
      expect(TERMINAL).not.toContain(current.body.status);
    }
    // Orchestration holds back: nothing invoiced for the command-style order yet.
    expect(await invoicesOf(waiting[1]!.id)).toEqual([]);

    await system.start('payment');

    for (const order of waiting) expect((await settled(order.id)).status).toBe('COMPLETED');
    expect((await settled(declinedWhileDown.id)).status).toBe('CANCELLED');
    await idle();
    const ledger = await checkLedger(system, [waiting[0]!.id, declinedWhileDown.id], 'event');
    expect(ledger).toMatchObject({
      orders: 2,
      completed: 1,
      cancelled: 1,
      lost: [],
      doubled: [],
      miscounted: [],
      uncompensated: [],
    });
    const commandLedger = await checkLedger(system, [waiting[1]!.id], 'command');
    expect(commandLedger).toMatchObject({ completed: 1, lost: [], doubled: [], miscounted: [] });
  });
});
