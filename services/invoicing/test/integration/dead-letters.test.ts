import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import amqplib, { type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import {
  REPO_ROOT,
  aNewOrder,
  freePort,
  request,
  startServiceUnderTest,
  waitFor,
  type ReceivedMessage,
  type ServiceUnderTest,
  type Spy,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningInvoicingService } from '../../src/main';
import { declareConsumerQueue } from '@app/broker';
import {
  QueueNotFoundError,
  ReplayError,
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
} from '@app/operations';

const CLI = path.join(REPO_ROOT, 'shared/operations/dist/cli/dead-letters.js');
const INVOICING_QUEUE = 'invoicing.new-order';
const DEAD_LETTER_HEADERS = [
  'x-dead-reason',
  'x-last-error',
  'x-retry-attempt',
  'x-dead-queue',
  'x-dead-at',
  'x-death',
];

describe('dead letters: list, replay and purge against a real broker', () => {
  let sut: ServiceUnderTest<RunningInvoicingService>;
  let connection: ChannelModel;
  let channel: ConfirmChannel;
  let invoiceEvents: Spy;
  let brokerUser: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest(
      'invoicing',
      'dead-letters',
      (env) => start(readConfig(env)),
      { FAULT_HANDLER_FAIL_ALWAYS: 'true', RETRY_DELAYS_MS: '50' },
    );
    brokerUser = decodeURIComponent(new URL(sut.vhost.url).username || 'guest');
    connection = await amqplib.connect(sut.vhost.url);
    connection.on('error', () => undefined);
    channel = await openChannel();
    invoiceEvents = await sut.broker.spy('invoicing.events', 'invoice.issued');
  });

  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    await sut?.teardown();
  });

  beforeEach(async () => {
    await sut.broker.drain(`${INVOICING_QUEUE}.dead`);
  });

  async function openChannel(): Promise<ConfirmChannel> {
    const opened = await connection.createConfirmChannel();
    opened.on('error', () => undefined);
    return opened;
  }

  const setFaults = async (faults: Record<string, unknown>): Promise<void> => {
    const response = await request(`${sut.url}/admin/faults`, { method: 'PUT', body: faults });
    expect(response.status).toBe(200);
  };

  const depthOf = (queue: string, count: number) =>
    waitFor(
      `${queue} to hold ${count} message(s)`,
      async () => (await sut.broker.depth(queue)) === count,
    );

  /**
   * A consumer queue of the test's own that nobody consumes, so replayed copies can be
   * inspected where they land; its own, because messages handed back by a list or a replay
   * reach the queue a moment after the call returns.
   */
  async function aParkedQueue(): Promise<string> {
    const queue = `test.parked-${randomUUID().slice(0, 8)}`;
    await declareConsumerQueue(channel, { name: queue, bindings: [] }, [50]);
    return queue;
  }

  /** Parks a message in `<queue>.dead` as the consumer would have, with overrides. */
  async function parkIn(
    queue: string,
    overrides: { headers?: Record<string, unknown> } & Partial<Options.Publish> = {},
  ): Promise<{ messageId: string; orderId: string; causationId: string; traceparent: string }> {
    const order = aNewOrder();
    const messageId = randomUUID();
    const causationId = randomUUID();
    const traceparent = `00-${randomUUID().replace(/-/g, '')}-${'c'.repeat(16)}-01`;
    const { headers, ...properties } = overrides;
    await sut.broker.publishRaw('', `${queue}.dead`, Buffer.from(JSON.stringify(order)), {
      persistent: true,
      contentType: 'application/json',
      messageId,
      type: 'NewOrder',
      correlationId: order.orderId,
      appId: 'order',
      timestamp: 1_700_000_000,
      userId: brokerUser,
      ...properties,
      headers: {
        traceparent,
        'x-causation-id': causationId,
        'x-retry-attempt': 3,
        'x-last-error': 'database exploded',
        'x-dead-reason': 'failed',
        'x-dead-queue': queue,
        'x-dead-at': new Date().toISOString(),
        'x-original-user-id': 'order',
        ...headers,
      },
    });
    return { messageId, orderId: order.orderId, causationId, traceparent };
  }

  /** Everything that arrives in `queue` until `count` messages were taken. */
  async function takeFrom(queue: string, count: number): Promise<ReceivedMessage[]> {
    const taken: ReceivedMessage[] = [];
    return waitFor(`${count} message(s) in ${queue}`, async () => {
      taken.push(...(await sut.broker.drain(queue)));
      return taken.length >= count ? taken : undefined;
    });
  }

  async function metricsText(): Promise<string> {
    const response = await request(`${sut.url}/metrics`);
    return String(response.body);
  }

  const processedCount = async (): Promise<number> => {
    const line = (await metricsText())
      .split('\n')
      .find((l) =>
        l.startsWith(
          `messages_consumed_total{queue="${INVOICING_QUEUE}",type="NewOrder",outcome="processed"}`,
        ),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  };

  describe('library', () => {
    test('when NewOrders are parked, then list shows each with its type, ids, reason, last error and age, and leaves them parked', async () => {
      await setFaults({ handlerFailAlways: true });
      const failing = aNewOrder();
      const failingId = await sut.broker.publishMessage('NewOrder', failing);
      const invalidId = await sut.broker.publishMessage('NewOrder', {
        ...aNewOrder(),
        totalCents: 'a lot',
      });
      await depthOf(`${INVOICING_QUEUE}.dead`, 2);

      const entries = await listDeadLetters(channel, INVOICING_QUEUE);

      expect(entries).toHaveLength(2);
      expect(entries.find((e) => e.messageId === failingId)).toEqual({
        messageId: failingId,
        type: 'NewOrder',
        correlationId: failing.orderId,
        reason: 'failed',
        lastError: expect.stringContaining('injected permanent failure of NewOrder'),
        attempts: 2,
        deadAt: expect.any(Date),
        ageMs: expect.any(Number),
        originalQueue: INVOICING_QUEUE,
        replayed: 0,
      });
      expect(entries.find((e) => e.messageId === invalidId)).toMatchObject({
        type: 'NewOrder',
        reason: 'invalid',
        lastError: expect.stringContaining('invalid NewOrder payload'),
        attempts: 0,
        originalQueue: INVOICING_QUEUE,
      });
      await depthOf(`${INVOICING_QUEUE}.dead`, 2);
      const again = await listDeadLetters(channel, `${INVOICING_QUEUE}.dead`);
      expect(again.map((e) => e.messageId).sort()).toEqual([failingId, invalidId].sort());
      await depthOf(`${INVOICING_QUEUE}.dead`, 2);
    });

    test('when a parked NewOrder is replayed after its cause is fixed, then it is processed exactly once and the dead_letters gauge follows', async () => {
      await setFaults({ handlerFailAlways: true });
      const order = aNewOrder();
      const messageId = await sut.broker.publishMessage('NewOrder', order);
      await depthOf(`${INVOICING_QUEUE}.dead`, 1);
      await waitFor('/metrics to count the parked message', async () =>
        (await metricsText()).includes(`dead_letters{queue="${INVOICING_QUEUE}"} 1`),
      );
      expect(await metricsText()).toMatch(new RegExp(`queue_depth{queue="${INVOICING_QUEUE}"} 0`));
      const processedBefore = await processedCount();

      await setFaults({});
      const replayed = await replayDeadLetters(channel, INVOICING_QUEUE, { userId: brokerUser });

      expect(replayed).toBe(1);
      await waitFor('the replayed order to be processed', async () =>
        (await processedCount()) === processedBefore + 1 ? true : undefined,
      );
      const invoices = await sut.db.query('SELECT id FROM invoices WHERE order_id = $1', [
        order.orderId,
      ]);
      const inbox = await sut.db.query('SELECT 1 FROM inbox_messages WHERE message_id = $1', [
        messageId,
      ]);
      expect(invoices).toHaveLength(1);
      expect(inbox).toHaveLength(1);
      await invoiceEvents.waitForCount(1, (m) => m.raw.properties.correlationId === order.orderId);
      await depthOf(`${INVOICING_QUEUE}.dead`, 0);
      await waitFor('/metrics to show no parked message', async () =>
        (await metricsText()).includes(`dead_letters{queue="${INVOICING_QUEUE}"} 0`),
      );
      expect(
        invoiceEvents.messages.filter((m) => m.raw.properties.correlationId === order.orderId),
      ).toHaveLength(1);
    });

    test('when all dead letters are replayed, then each copy reaches its original queue with its properties, the replaying user as userId, a fresh retry count and x-replayed 1', async () => {
      const queue = await aParkedQueue();
      const first = await parkIn(queue);
      const second = await parkIn(queue);
      await depthOf(`${queue}.dead`, 2);

      const replayed = await replayDeadLetters(channel, queue, { userId: brokerUser });

      expect(replayed).toBe(2);
      const copies = await takeFrom(queue, 2);
      expect(copies.map((c) => c.raw.properties.messageId).sort()).toEqual(
        [first.messageId, second.messageId].sort(),
      );
      const copy = copies.find((c) => c.raw.properties.messageId === first.messageId);
      expect(copy?.raw.properties).toMatchObject({
        type: 'NewOrder',
        correlationId: first.orderId,
        appId: 'order',
        contentType: 'application/json',
        deliveryMode: 2,
        timestamp: 1_700_000_000,
      });
      expect(copy?.raw.properties.userId).toBe(brokerUser);
      const headers = copy?.raw.properties.headers ?? {};
      expect(headers).toMatchObject({
        traceparent: first.traceparent,
        'x-causation-id': first.causationId,
        'x-original-user-id': 'order',
        'x-replayed': 1,
      });
      for (const header of DEAD_LETTER_HEADERS) expect(headers).not.toHaveProperty(header);
      await depthOf(`${queue}.dead`, 0);
    });

    test('when one dead letter is replayed by id, then only that one leaves, its replay count goes up, and the others stay parked', async () => {
      const queue = await aParkedQueue();
      const before = await parkIn(queue);
      const chosen = await parkIn(queue, { headers: { 'x-replayed': 1 } });
      const after = await parkIn(queue);
      await depthOf(`${queue}.dead`, 3);

      const replayed = await replayDeadLetters(channel, queue, {
        id: chosen.messageId,
        userId: brokerUser,
      });

      expect(replayed).toBe(1);
      const [copy] = await takeFrom(queue, 1);
      expect(copy?.raw.properties.messageId).toBe(chosen.messageId);
      expect(copy?.raw.properties.headers?.['x-replayed']).toBe(2);
      await depthOf(`${queue}.dead`, 2);
      const left = await listDeadLetters(channel, queue);
      expect(left.map((e) => e.messageId).sort()).toEqual(
        [before.messageId, after.messageId].sort(),
      );
      expect(await sut.broker.depth(queue)).toBe(0);
    });

    test('when a dead letter names another queue in its x-dead-queue header, then replay ignores the header and sends it back to the queue its dead-letter queue belongs to', async () => {
      const queue = await aParkedQueue();
      const planted = await parkIn(queue, { headers: { 'x-dead-queue': 'invoicing.other' } });
      await depthOf(`${queue}.dead`, 1);

      const replayed = await replayDeadLetters(channel, queue, { userId: brokerUser });

      expect(replayed).toBe(1);
      await depthOf(`${queue}.dead`, 0);
      const [back] = await sut.broker.drain(queue);
      expect(back?.raw.properties.messageId).toBe(planted.messageId);
    });

    test('when the original queue of a dead letter no longer exists, then replay stops with a ReplayError and the message stays parked', async () => {
      const queue = await aParkedQueue();
      const lost = await parkIn(queue);
      await depthOf(`${queue}.dead`, 1);
      await channel.deleteQueue(queue);

      const replay = replayDeadLetters(channel, queue, { userId: brokerUser });

      await expect(replay).rejects.toThrow(ReplayError);
      await expect(replay).rejects.toThrow(new RegExp(`could not be routed to queue ${queue}`));
      await depthOf(`${queue}.dead`, 1);
      const [entry] = await listDeadLetters(channel, queue);
      expect(entry).toMatchObject({ messageId: lost.messageId, originalQueue: queue });
    });

    test('when dead letters are purged, then the dead-letter queue is empty and the count says how many went', async () => {
      const queue = await aParkedQueue();
      await parkIn(queue);
      await parkIn(queue);
      await depthOf(`${queue}.dead`, 2);

      const purged = await purgeDeadLetters(channel, queue);

      expect(purged).toBe(2);
      expect(await sut.broker.depth(`${queue}.dead`)).toBe(0);
      expect(await listDeadLetters(channel, queue)).toEqual([]);
    });

    test('when the queue does not exist, then list, replay and purge fail with QueueNotFoundError', async () => {
      for (const operation of [listDeadLetters, replayDeadLetters, purgeDeadLetters]) {
        // The broker closes a channel that asked for a missing queue.
        const fresh = await openChannel();
        await expect(operation(fresh, 'test.nope')).rejects.toThrow(
          new QueueNotFoundError('test.nope.dead'),
        );
      }
    });
  });

  describe('command line', () => {
    beforeAll(() => {
      if (!existsSync(CLI)) {
        throw new Error(`${CLI} is missing: build it first (npx tsc -b shared/messaging)`);
      }
    });

    /** Runs the CLI with stdin a pipe (not a terminal) on this file's vhost. */
    function cli(
      args: string[],
      env: Record<string, string> = {},
    ): Promise<{ code: number | null; stdout: string; stderr: string }> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args], {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH ?? '', RABBITMQ_URL: sut.vhost.url, ...env },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end();
      });
    }

    test('when list is run, then it prints a table of the dead letters with type, ids, reason, age and last error, and they stay parked', async () => {
      const queue = await aParkedQueue();
      const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000).toISOString();
      const parked = await parkIn(queue, { headers: { 'x-dead-at': twoHoursAgo } });
      await depthOf(`${queue}.dead`, 1);

      const { code, stdout } = await cli(['list', queue]);

      expect(code).toBe(0);
      expect(stdout).toContain(`1 dead letter in ${queue}.dead`);
      expect(stdout).toMatch(/TYPE\s+MESSAGE ID\s+CORRELATION ID\s+REASON\s+AGE/);
      const row = stdout.split('\n').find((line) => line.includes(parked.messageId));
      expect(row).toMatch(
        new RegExp(`^NewOrder\\s+${parked.messageId}\\s+${parked.orderId}\\s+failed\\s+2h 0m\\s+3`),
      );
      expect(row).toContain('database exploded');
      await depthOf(`${queue}.dead`, 1);
    });

    test('when replay --id is run, then that message goes back to its queue and the command says so', async () => {
      const queue = await aParkedQueue();
      const chosen = await parkIn(queue);
      const other = await parkIn(queue);
      await depthOf(`${queue}.dead`, 2);

      const { code, stdout } = await cli(['replay', queue, '--id', chosen.messageId]);

      expect(code).toBe(0);
      expect(stdout).toContain(`replayed 1 dead letter from ${queue}.dead`);
      const [copy] = await takeFrom(queue, 1);
      expect(copy?.raw.properties.messageId).toBe(chosen.messageId);
      await depthOf(`${queue}.dead`, 1);
      const [left] = await listDeadLetters(channel, queue);
      expect(left?.messageId).toBe(other.messageId);
    });

    test('when replay --id names no parked message, then it exits 1 saying so', async () => {
      const queue = await aParkedQueue();
      await parkIn(queue);
      const unknownId = randomUUID();

      const { code, stderr } = await cli(['replay', queue, '--id', unknownId]);

      expect(code).toBe(1);
      expect(stderr).toContain(`no dead letter with messageId ${unknownId}`);
      await depthOf(`${queue}.dead`, 1);
    });

    test('when purge is run without --yes and stdin is not a terminal, then it refuses and removes nothing', async () => {
      const queue = await aParkedQueue();
      await parkIn(queue);
      await depthOf(`${queue}.dead`, 1);

      const { code, stderr } = await cli(['purge', queue]);

      expect(code).toBe(1);
      expect(stderr).toContain(`refusing to purge ${queue}.dead without confirmation`);
      expect(stderr).toMatch(/stdin is not a terminal; add --yes/);
      expect(await sut.broker.depth(`${queue}.dead`)).toBe(1);
    });

    test('when purge --yes is run, then the dead letters are removed and counted', async () => {
      const queue = await aParkedQueue();
      await parkIn(queue);
      await parkIn(queue);
      await depthOf(`${queue}.dead`, 2);

      const { code, stdout } = await cli(['purge', `${queue}.dead`, '--yes']);

      expect(code).toBe(0);
      expect(stdout).toContain(`purged 2 dead letters from ${queue}.dead`);
      expect(await sut.broker.depth(`${queue}.dead`)).toBe(0);
    });

    test.each([
      ['list', ['list', 'test.nope']],
      ['replay', ['replay', 'test.nope']],
      ['purge', ['purge', 'test.nope', '--yes']],
    ])(
      'when %s names a queue that does not exist, then it exits 1 saying there is no such queue',
      async (_command, args) => {
        const { code, stderr } = await cli(args);

        expect(code).toBe(1);
        expect(stderr).toContain('no queue named test.nope.dead');
      },
    );

    test.each([
      ['an unknown command', ['frobnicate', INVOICING_QUEUE], 'unknown command "frobnicate"'],
      ['no queue', ['list'], 'list needs a queue'],
      ['no command', [], 'missing command'],
    ])('when given %s, then it exits 2 with the usage', async (_case, args, message) => {
      const { code, stderr } = await cli(args);

      expect(code).toBe(2);
      expect(stderr).toContain(message);
      expect(stderr).toContain('usage: dead-letters list <queue>');
    });

    test('when the broker does not answer, then it exits 3 naming the broker without its password', async () => {
      const url = `amqp://guest:secret@127.0.0.1:${await freePort()}`;

      const { code, stderr } = await cli(['list', INVOICING_QUEUE], { RABBITMQ_URL: url });

      expect(code).toBe(3);
      expect(stderr).toContain('cannot reach the broker at amqp://guest:***@127.0.0.1:');
      expect(stderr).not.toContain('secret');
    });
  });
});
