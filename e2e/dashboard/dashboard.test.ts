import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import amqplib from 'amqplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Queues, ServiceNames } from '@app/contracts';
import {
  REPO_ROOT,
  startDashboard,
  startSystem,
  type RunningSystem,
  type ServiceProcess,
} from '@app/testing';

/** Debian's chromium (apt-get install chromium); playwright cannot download browsers here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** What the page functions below use of the browser (the tests compile without the DOM's types). */
interface PageElement {
  getAttribute(name: string): string | null;
  textContent: string | null;
}
/** Functions run in the page are sent as source: they may use nothing of this file but types. */
type PageGlobals = { document: { querySelector(selector: string): PageElement | null } };

/** The test's output: the screenshot, and the page's console. */
const OUTPUT = path.join(REPO_ROOT, 'reports', 'dashboard-test');
/** `DASHBOARD_SCREENSHOT_DOCS=true` also writes the README's picture. */
const DOCS_SCREENSHOT = path.join(REPO_ROOT, 'docs', 'images', 'dashboard.png');

/**
 * The dashboard in a real headless Chromium, beside the five services as processes on a
 * real broker (each its own least-privilege user, the dashboard its read-only one) and real
 * databases. The local broker has no management plugin, so the page runs on the services'
 * /metrics: the degraded path is the one tested here.
 */
describe('the dashboard in a browser', () => {
  let system: RunningSystem;
  let dashboard: ServiceProcess & { brokerUrl: string };
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    system = await startSystem({ label: 'dashboard', leastPrivilege: true });
    dashboard = await startDashboard(system, { REFRESH_MS: '500' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    await page.goto(dashboard.url);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
    await system?.teardown();
  });

  test('when the page opens, then it shows the five services ready and every queue of each, with no console error', async () => {
    for (const service of ServiceNames) {
      await page.waitForSelector(`.tile[data-service="${service}"][data-state="ready"]`);
    }
    const shown = await page.$$eval('g.queue', (groups) =>
      groups.map((group) => group.getAttribute('data-queue')),
    );
    expect(shown.sort()).toEqual(
      Object.values(Queues)
        .map((queue) => queue.name)
        .sort(),
    );
    for (const service of ServiceNames) {
      expect(shown.some((queue) => queue?.startsWith(`${service}.`))).toBe(true);
    }
    await page.waitForSelector('g.queue[data-ready="0"]');
    await expect(page.textContent('#source')).resolves.toMatch(/\/metrics/);
    expect(consoleErrors).toEqual([]);
  });

  test('when a client listens to the event stream for 5 s, then it gets a complete picture at least once a second', async () => {
    const response = await fetch(`${dashboard.url}/api/events`, {
      signal: AbortSignal.timeout(5_000),
    });
    let frames = 0;
    let last = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const text = last + Buffer.from(chunk).toString('utf8');
        const parts = text.split('\n\n');
        last = parts.pop() ?? '';
        frames += parts.filter((part) => part.startsWith('event: state')).length;
      }
    } catch (err) {
      if ((err as Error).name !== 'TimeoutError' && (err as Error).name !== 'AbortError') throw err;
    }

    // REFRESH_MS is 500 here: about 10; at least one a second whatever the machine's load.
    expect(frames).toBeGreaterThanOrEqual(5);
  });

  test.each([
    [
      'event',
      '#place-event',
      ['NewOrder', 'AuthorizationAccepted', 'InvoiceIssued', 'ShipmentPrepared'],
    ],
    [
      'command',
      '#place-command',
      [
        'AuthorizePayment',
        'PaymentAuthorized',
        'CreateInvoice',
        'InvoiceCreated',
        'ShipOrder',
        'ShipmentCreated',
      ],
    ],
  ])(
    'when an order is placed with the %s button, then it reaches COMPLETED on the page with its message trail',
    async (style, button, types) => {
      await page.click(button);

      // Generous: on a shared 2-core machine the five services may wait their turn.
      await page.waitForSelector('#trail-order[data-status="COMPLETED"]', { timeout: 60_000 });
      for (const type of types) await page.waitForSelector(`#trail li[data-type="${type}"]`);
      const selected = await page.getAttribute('#orders tr.selected', 'data-order-id');
      await page.waitForSelector(
        `#orders tr[data-order-id="${selected}"][data-status="COMPLETED"]`,
      );
      await expect(page.textContent('#trail-order')).resolves.toContain(style);
      expect(consoleErrors).toEqual([]);
    },
    90_000,
  );

  test('when Invoicing is made slow and a burst is placed, then the depth of its queue rises on the page', async () => {
    await page.click('[data-service="invoicing"] button[data-preset="slow"]');
    await page.waitForSelector(
      '[data-service="invoicing"] button[data-preset="slow"][aria-pressed="true"]',
    );

    await page.click('#burst');

    const depth = await page.waitForFunction(
      () => {
        const group = (globalThis as unknown as PageGlobals).document.querySelector(
          'g.queue[data-queue="invoicing.new-order"]',
        );
        const ready = Number(group?.getAttribute('data-ready'));
        return ready >= 20 ? ready : false;
      },
      undefined,
      { timeout: 30_000, polling: 200 },
    );
    expect(await depth.jsonValue()).toBeGreaterThanOrEqual(20);
    await mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard.png'), fullPage: true });
    if (process.env.DASHBOARD_SCREENSHOT_DOCS === 'true') {
      await mkdir(path.dirname(DOCS_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
    }
    await page.click('[data-service="invoicing"] button[data-preset="off"]');
    expect(consoleErrors).toEqual([]);
  }, 90_000);

  test('when a service goes down, then its tile says so and the page keeps updating the rest', async () => {
    await system.stop('statistics');

    await page.waitForSelector('.tile[data-service="statistics"][data-state="down"]', {
      timeout: 15_000,
    });
    const before = await page.textContent('#status');
    await page.waitForFunction(
      (text) =>
        (globalThis as unknown as PageGlobals).document.querySelector('#status')?.textContent !==
        text,
      before,
    );
    await page.waitForSelector('.tile[data-service="order"][data-state="ready"]');
    expect(consoleErrors).toEqual([]);
  });
});

describe("the dashboard's broker user reads and never writes", () => {
  let system: RunningSystem;
  let dashboard: ServiceProcess & { brokerUrl: string };

  beforeAll(async () => {
    system = await startSystem({ label: 'observer', leastPrivilege: true, services: ['order'] });
    dashboard = await startDashboard(system);
  }, 240_000);

  afterAll(async () => {
    await dashboard?.stop();
    await system?.teardown();
  });

  test('when an action comes as a form or without a body (what a cross-site page can send), then it is refused', async () => {
    const asForm = await fetch(`${dashboard.url}/api/burst`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'count=200',
    });
    const bare = await fetch(`${dashboard.url}/api/faults/order`, { method: 'PUT' });

    expect([asForm.status, bare.status]).toEqual([415, 415]);
  });

  /** Runs `act` on a fresh channel of the dashboard's user; resolves with the broker's refusal, if any. */
  async function refusal(
    act: (channel: amqplib.ConfirmChannel) => Promise<unknown>,
  ): Promise<string> {
    const connection = await amqplib.connect(dashboard.brokerUrl);
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createConfirmChannel();
      const closed = new Promise<string>((resolve) =>
        channel.on('error', (err: Error) => resolve(err.message)),
      );
      await act(channel).catch(() => undefined);
      // A refusal closes the channel at once; one that stays open was allowed to do it.
      const allowed = new Promise<string>((resolve) => {
        setTimeout(() => resolve('not refused: the broker allowed it'), 3_000).unref();
      });
      return await Promise.race([closed, allowed]);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  test('when it publishes NewOrder to order.events, then the broker refuses it', async () => {
    const reason = await refusal(async (channel) => {
      channel.publish('order.events', 'order.new', Buffer.from('{}'), { userId: 'dashboard' });
      await channel.waitForConfirms();
    });
    expect(reason).toMatch(
      /ACCESS_REFUSED - access to exchange 'order.events'.*refused for user 'dashboard'/,
    );
  });

  test.each([
    [
      'declares a queue',
      (c: amqplib.ConfirmChannel) => c.assertQueue('dashboard.mine'),
      /access to queue 'dashboard.mine'.*refused/,
    ],
    [
      'binds its queue to another exchange',
      (c: amqplib.ConfirmChannel) =>
        c.bindQueue('dashboard.observer', 'invoicing.commands', 'CreateInvoice'),
      /access to queue 'dashboard.observer'.*refused/,
    ],
    [
      "reads another service's queue",
      (c: amqplib.ConfirmChannel) => c.consume('order.invoice-issued', () => undefined),
      /access to queue 'order.invoice-issued'.*refused/,
    ],
  ])('when it %s, then the broker refuses it', async (_what, act, expected) => {
    const reason = await refusal(act);
    expect(reason).toMatch(/ACCESS_REFUSED/);
    expect(reason).toMatch(expected);
  });
});
