import type { MessageType } from '@app/contracts';
import { request, waitFor } from '@app/testing';
import { placeOrders, type Style } from '../orders';
import { check, type Check, type Scenario } from '../scenario';
import {
  buildTrail,
  expectedSteps,
  formatTrail,
  handledBy,
  trailMismatches,
  type ExpectedStep,
  type TrailStep,
} from '../trail';
import { TrailSpy } from '../trail-spy';
import { textTable } from '../verdict';

/** One order of the scenario: a style and a test card token (DESIGN 4a). */
export interface PaymentCase {
  style: Style;
  cardToken: string;
  /** `undefined` when the token authorizes; else the decline reason it must give. */
  declineReason?: string;
}

export const PAYMENT_CASES: readonly PaymentCase[] = [
  { style: 'event', cardToken: 'tok_visa' },
  { style: 'event', cardToken: 'tok_declined', declineReason: 'card_declined' },
  { style: 'command', cardToken: 'tok_visa' },
  { style: 'command', cardToken: 'tok_declined', declineReason: 'card_declined' },
];

/** What one order ended as, read through each service's HTTP API; `none` when nothing exists. */
export interface FinalState {
  order: string;
  cancellationReason?: string;
  payment: string;
  declineReason?: string;
  invoice: string;
  shipment: string;
}

/**
 * What DESIGN 4a says the order ends as. Authorized: COMPLETED with an issued invoice and a
 * prepared shipment in both styles. Declined: CANCELLED with the reason; with events,
 * Invoicing and Shipping already acted, so the invoice is VOIDED and the shipment
 * CANCELLED (compensation); with commands, Order never asked for either.
 */
export function expectedFinal({ style, declineReason }: PaymentCase): FinalState {
  if (declineReason === undefined) {
    return { order: 'COMPLETED', payment: 'AUTHORIZED', invoice: 'ISSUED', shipment: 'PREPARED' };
  }
  return {
    order: 'CANCELLED',
    cancellationReason: declineReason,
    payment: 'DECLINED',
    declineReason,
    invoice: style === 'event' ? 'VOIDED' : 'none',
    shipment: style === 'event' ? 'CANCELLED' : 'none',
  };
}

const FIELDS: (keyof FinalState)[] = [
  'order',
  'cancellationReason',
  'payment',
  'declineReason',
  'invoice',
  'shipment',
];

/** Where the actual final state differs from the expected one, e.g. `invoice ISSUED, expected VOIDED`. */
export function finalProblems(expected: FinalState, actual: FinalState): string[] {
  return FIELDS.filter((field) => expected[field] !== actual[field]).map(
    (field) => `${field} ${actual[field] ?? '(none)'}, expected ${expected[field] ?? '(none)'}`,
  );
}

/** The messages each case's trail must show, and the queues that handle them, from the catalog. */
export function expectedPaymentTrail({ style, declineReason }: PaymentCase): ExpectedStep[] {
  const authorized = declineReason === undefined;
  const types: MessageType[] =
    style === 'event'
      ? [
          'NewOrder',
          authorized ? 'AuthorizationAccepted' : 'AuthorizationDeclined',
          'InvoiceIssued',
          'ShipmentPrepared',
          ...(authorized ? [] : (['OrderCancelled'] as const)),
        ]
      : authorized
        ? [
            'AuthorizePayment',
            'PaymentAuthorized',
            'CreateInvoice',
            'ShipOrder',
            'InvoiceCreated',
            'ShipmentCreated',
          ]
        : ['AuthorizePayment', 'PaymentDeclined'];
  return expectedSteps(types);
}

/** How a cancelled order ended for Invoicing and Shipping: undone, never made, or neither. */
export type Aftermath = 'compensated' | 'nothing created' | 'left live' | 'not cancelled';

export function aftermathOf(state: FinalState): Aftermath {
  if (state.order !== 'CANCELLED') return 'not cancelled';
  if (state.invoice === 'none' && state.shipment === 'none') return 'nothing created';
  const undone = (status: string): boolean =>
    status === 'none' || status === 'VOIDED' || status === 'CANCELLED';
  return undone(state.invoice) && undone(state.shipment) ? 'compensated' : 'left live';
}

/** Per style, what its declined order needed, as one sentence for the audience and the summary. */
export function compensationSummary(rows: { case: PaymentCase; state: FinalState }[]): string[] {
  return (['event', 'command'] as const).map((style) => {
    const declined = rows.filter((row) => row.case.style === style && row.case.declineReason);
    const what = declined.map(({ state }) => {
      switch (aftermathOf(state)) {
        case 'compensated':
          return `needed compensation: invoice ${state.invoice}, shipment ${state.shipment} (OrderCancelled undid what NewOrder had started)`;
        case 'nothing created':
          return 'needed no compensation: no invoice and no shipment were ever created (Order asked for them only after a payment authorized)';
        case 'left live':
          return `left work live after cancelling: invoice ${state.invoice}, shipment ${state.shipment}`;
        default:
          return `the declined order is ${state.order}, not CANCELLED`;
      }
    });
    return `${style} style ${what.join('; ') || 'had no declined order'}`;
  });
}

/** The final states side by side, one row per order. */
export function finalStateTable(
  rows: { case: PaymentCase; id: string; state: FinalState }[],
): string {
  const withReason = (status: string, reason?: string): string =>
    reason ? `${status} (${reason})` : status;
  return textTable(
    ['style', 'card', 'order', 'order status', 'payment', 'invoice', 'shipment'],
    rows.map(({ case: c, id, state }) => [
      c.style,
      c.cardToken,
      id.slice(0, 8),
      withReason(state.order, state.cancellationReason),
      withReason(state.payment, state.declineReason),
      state.invoice,
      state.shipment,
    ]),
  );
}

/** `none`, the one row's status, or every status when there are several (which is wrong). */
export function statusOfRows(rows: { status?: unknown }[]): string {
  if (rows.length === 0) return 'none';
  const statuses = rows.map((row) => String(row.status ?? '?'));
  return statuses.length === 1
    ? (statuses[0] ?? '?')
    : `${rows.length} rows: ${statuses.join(', ')}`;
}

const caseLabel = (c: PaymentCase): string =>
  `${c.style} style, ${c.declineReason ? 'declined' : 'authorized'} (${c.cardToken})`;

export const payment: Scenario = {
  id: 'payment',
  title: 'Payment',
  summary: 'authorized and declined payment per style; who needs compensation',
  shows:
    'Payment authorizes each order. Commands: Order asks Payment first and only then asks for an invoice and a shipment ' +
    '(orchestration). Events: Payment, Invoicing and Shipping all react to NewOrder at once (choreography), so a ' +
    'declined payment must be compensated: Order publishes OrderCancelled, the invoice is voided, the shipment cancelled.',
  async run({ system, progress, say }) {
    await system.ensureRunning();
    const spy = await TrailSpy.open(system.vhost.url);
    const statisticsUrl = `${system.url('statistics')}/statistics`;
    try {
      const before = (await request(statisticsUrl)).body;
      progress.update('placing 4 orders ...');
      const placed: { case: PaymentCase; id: string; at: number }[] = [];
      for (const c of PAYMENT_CASES) {
        const at = Date.now();
        const [id = ''] = await placeOrders(system.url('order'), 1, {
          style: c.style,
          cardToken: c.cardToken,
        });
        placed.push({ case: c, id, at });
      }
      const trailOf = (id: string): TrailStep[] =>
        buildTrail(id, spy.seen, handledBy(system.processes));
      const stateOf = async (id: string): Promise<FinalState> => {
        const query = `?orderId=${id}`;
        const [order, payments, invoices, shipments] = await Promise.all([
          request(`${system.url('order')}/orders/${id}`),
          request(`${system.url('payment')}/payments${query}`),
          request(`${system.url('invoicing')}/invoices${query}`),
          request(`${system.url('shipping')}/shipments${query}`),
        ]);
        const list = (body: unknown): { status?: unknown; declineReason?: unknown }[] =>
          Array.isArray(body) ? body : [];
        const [decision] = list(payments.body);
        return {
          order: String(order.body?.status ?? `HTTP ${order.status}`),
          ...(order.body?.cancellationReason
            ? { cancellationReason: String(order.body.cancellationReason) }
            : {}),
          payment: statusOfRows(list(payments.body)),
          ...(decision?.declineReason ? { declineReason: String(decision.declineReason) } : {}),
          invoice: statusOfRows(list(invoices.body)),
          shipment: statusOfRows(list(shipments.body)),
        };
      };
      const problemsOf = async (row: (typeof placed)[number]): Promise<string[]> => [
        ...finalProblems(expectedFinal(row.case), await stateOf(row.id)),
        ...trailMismatches(expectedPaymentTrail(row.case), trailOf(row.id)),
      ];
      const allSettled = async (): Promise<boolean> => {
        const open = await Promise.all(placed.map(problemsOf));
        const done = open.filter((problems) => problems.length === 0).length;
        progress.update(`waiting for the 4 orders to end as DESIGN 4a says: ${done}/4`);
        return done === placed.length;
      };
      await waitFor('the four orders to settle', allSettled, {
        timeoutMs: 30_000,
        intervalMs: 150,
      }).catch(() => undefined);
      // A moment more, so a message that should never be sent (a CreateInvoice after a
      // declined payment, say) would have shown up in the trail.
      await new Promise((resolve) => setTimeout(resolve, 500));
      progress.done();

      const rows: { case: PaymentCase; id: string; at: number; state: FinalState }[] = [];
      const details = [];
      const checks: Check[] = [];
      for (const row of placed) {
        const steps = trailOf(row.id);
        const lines = formatTrail(steps, row.at);
        const label = caseLabel(row.case);
        say(`  ${label}, correlation id ${row.id}:`);
        for (const line of lines) say(`  ${line}`);
        details.push({ title: `Message trail, ${label} (correlation id ${row.id})`, lines });
        const state = await stateOf(row.id);
        rows.push({ ...row, state });
        const expected = expectedFinal(row.case);
        const wrong = finalProblems(expected, state);
        checks.push(
          check(
            `${label}: ${expected.order}, payment ${expected.payment}, invoice ${expected.invoice}, shipment ${expected.shipment}`,
            wrong.length === 0,
            wrong.length > 0 ? wrong.join('; ') : undefined,
          ),
        );
        const trailWrong = trailMismatches(expectedPaymentTrail(row.case), steps);
        checks.push(
          check(
            `${label}: trail ${expectedPaymentTrail(row.case)
              .map((step) => step.type)
              .join(', ')}`,
            trailWrong.length === 0,
            trailWrong.length > 0 ? trailWrong.join('; ') : `${steps.length} messages`,
          ),
        );
      }
      const table = finalStateTable(rows).split('\n');
      say('  final states:');
      for (const line of table) say(`    ${line}`);
      const verdicts = compensationSummary(rows);
      for (const line of verdicts) say(`  ${line}`);

      const after = (await request(statisticsUrl)).body;
      const delta = (field: string): number =>
        Number(after[field] ?? 0) - Number(before[field] ?? 0);
      const authorizedEvent = rows.find((r) => r.case.style === 'event' && !r.case.declineReason);
      const authorizedTotal = authorizedEvent
        ? Number(
            (await request(`${system.url('order')}/orders/${authorizedEvent.id}`)).body.totalCents,
          )
        : 0;
      const statisticsLine =
        `GET /statistics: orders +${delta('orders')}, cancelledOrders +${delta('cancelledOrders')}, ` +
        `revenueCents +${delta('revenueCents')} (the authorized event-style order's total: ${authorizedTotal})`;
      say(`  ${statisticsLine}`);
      checks.push(
        check(
          'Statistics counted both event-style orders, took the declined one out of the revenue, never saw the command-style ones',
          delta('orders') === 2 &&
            delta('cancelledOrders') === 1 &&
            delta('revenueCents') === authorizedTotal,
          statisticsLine.replace('GET /statistics: ', ''),
        ),
      );
      details.push({
        title: 'Final states',
        lines: [...table, '', ...verdicts, statisticsLine],
      });

      const count = (style: Style, declined: boolean): number =>
        trailOf(
          rows.find((r) => r.case.style === style && !!r.case.declineReason === declined)?.id ?? '',
        ).length;
      const needed = (style: Style): string => {
        const declined = rows.filter((r) => r.case.style === style && r.case.declineReason);
        const kinds = declined.map((r) => aftermathOf(r.state));
        return kinds.every((kind) => kind === 'compensated')
          ? 'yes (invoice VOIDED, shipment CANCELLED)'
          : kinds.every((kind) => kind === 'nothing created')
            ? 'no (nothing was ever created)'
            : kinds.join(', ');
      };
      return {
        headline:
          `compensation needed: event ${needed('event').split(' ')[0]}, command ${needed('command').split(' ')[0]}; ` +
          `messages authorized/declined: event ${count('event', false)}/${count('event', true)}, ` +
          `command ${count('command', false)}/${count('command', true)}`,
        figures: [
          { label: 'event style: compensation needed', value: needed('event') },
          { label: 'command style: compensation needed', value: needed('command') },
          {
            label: 'event style: messages, authorized / declined',
            value: `${count('event', false)} / ${count('event', true)}`,
          },
          {
            label: 'command style: messages, authorized / declined',
            value: `${count('command', false)} / ${count('command', true)}`,
          },
        ],
        checks,
        details,
      };
    } finally {
      await spy.close();
    }
  },
};
