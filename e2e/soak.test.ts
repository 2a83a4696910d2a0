import { runSoak, type SoakResult, type SoakSample } from '@app/bench/soak';
import { anOrderRequest, request, waitFor, type RunningSystem } from '@app/testing';

/**
 * The short form of `make soak`: a minute of steady load in both styles with retention
 * windows of seconds, so cleanup runs many times. It asserts only what must hold on any
 * machine: every order accounted for once, and outbox and inbox sizes that stop growing.
 * Timings are for the report of `make soak`, never for an assertion here.
 */
describe('soak (short form): retention under steady load', () => {
  // Three times the inbox window (20 s): the middle and the last third both at the plateau.
  const seconds = 60;
  let result: SoakResult;
  const replay: { first?: string; inside?: string; after?: string; cleared?: boolean } = {};

  beforeAll(async () => {
    result = await runSoak({
      seconds,
      rate: 20,
      sampleSeconds: 5,
      retentionEnv: {
        OUTBOX_RETENTION: '10s',
        INBOX_RETENTION: '20s',
        IDEMPOTENCY_KEY_RETENTION: '3s',
        RETENTION_INTERVAL_MS: '1000',
        RETENTION_BATCH: '200',
      },
      afterLoad: (system) => replayAnIdempotencyKey(system),
    });
  }, 360_000);

  async function replayAnIdempotencyKey(system: RunningSystem): Promise<void> {
    const url = `${system.url('order')}/orders`;
    const key = `soak-${Date.now()}`;
    const body = anOrderRequest();
    const post = async () =>
      (await request(url, { body, headers: { 'Idempotency-Key': key } })).body.id as string;
    replay.first = await post();
    replay.inside = await post();
    await waitFor(
      'the idempotency key to be cleared',
      async () => {
        const [row] = await system.databases.order.query<{ key: string | null }>(
          'SELECT idempotency_key AS key FROM orders WHERE id = $1',
          [replay.first],
        );
        return row && row.key === null;
      },
      { timeoutMs: 30_000 },
    );
    replay.cleared = true;
    replay.after = await post();
  }

  const rows = (table: string) => (sample: SoakSample) =>
    sample.tables.filter((t) => t.table === table).reduce((sum, t) => sum + t.rows, 0);

  test('when the load ends, then no order was lost or doubled in either style', () => {
    expect(result.open).toBe(0);
    for (const style of ['event', 'command'] as const) {
      expect(result.placed[style]).toBeGreaterThan(0);
      expect(result.ledgers[style].lost).toEqual([]);
      expect(result.ledgers[style].doubled).toEqual([]);
      expect(result.ledgers[style].miscounted).toEqual([]);
    }
  });

  test.each(['outbox_messages', 'inbox_messages'])(
    'when cleanup runs under load, then %s stops growing: the last third holds no more rows than the middle third allows',
    (table) => {
      const third = Math.floor(result.samples.length / 3);
      const middle = result.samples.slice(third, 2 * third).map(rows(table));
      const last = result.samples.slice(2 * third).map(rows(table));
      // Without retention the rows grow with the orders placed: the last third would hold
      // about 1.5 times the middle third's peak. With it they level off at rate x window.
      expect(Math.max(...last)).toBeLessThanOrEqual(1.25 * Math.max(...middle));
    },
  );

  test('when the run ends, then every service removed rows of its outbox and its inbox', () => {
    for (const [service, removed] of Object.entries(result.removed)) {
      expect({ service, inbox: removed.inbox! > 0 }).toEqual({ service, inbox: true });
      if (service !== 'statistics')
        expect({ service, outbox: removed.outbox! > 0 }).toEqual({ service, outbox: true });
    }
  });

  test('when an Idempotency-Key is replayed inside its window, then the same order answers; after it, a new order is placed', () => {
    expect(replay.inside).toBe(replay.first);
    expect(replay.cleared).toBe(true);
    expect(replay.after).toBeDefined();
    expect(replay.after).not.toBe(replay.first);
  });
});
