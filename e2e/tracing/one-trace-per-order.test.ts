import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anOrderRequest, request, startSystem, waitFor, type RunningSystem } from '@app/testing';

/** A span as the services exported it, flattened from OTLP/JSON. */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/**
 * An OTLP/HTTP receiver that keeps every span in memory: the services, real processes
 * with the SDK and its http, express and pg instrumentations loaded as deployed, export to
 * it exactly as they would to Jaeger or a collector.
 */
class InMemoryOtlpReceiver {
  readonly spans: ExportedSpan[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          this.collect(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  trace(traceId: string): ExportedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  private collect(body: OtlpBody): void {
    for (const { resource, scopeSpans } of body.resourceSpans ?? []) {
      const service = String(attributesOf(resource?.attributes)['service.name']);
      for (const { spans } of scopeSpans ?? []) {
        for (const span of spans ?? []) {
          this.spans.push({
            service,
            traceId: hex(span.traceId),
            spanId: hex(span.spanId),
            parentSpanId: hex(span.parentSpanId),
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
          });
        }
      }
    }
  }
}

interface OtlpBody {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
      }[];
    }[];
  }[];
}
interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

function attributesOf(list: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));
}

/** OTLP/JSON ids are hex; accept base64 too, should an exporter send protobuf-style JSON. */
function hex(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

/**
 * One order is one trace: the test sends `POST /orders` with a `traceparent` of its own,
 * then finds every span of that trace id and checks they form one tree, whose spans come
 * from every service the order passed through, parent-child across the broker.
 */
describe('OpenTelemetry: one order, one connected trace across the services', () => {
  const receiver = new InMemoryOtlpReceiver();
  let system: RunningSystem;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    system = await startSystem({
      label: 'traces',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  }, 90_000);

  afterAll(async () => {
    await system?.teardown();
    await receiver.stop();
  });

  test.each([
    ['event', ['order', 'payment', 'invoicing', 'shipping', 'statistics']],
    ['command', ['order', 'payment', 'invoicing', 'shipping']],
  ])(
    'when an order is placed in the %s style, then all its spans form one tree spanning %j',
    async (style, services) => {
      const traceId = randomBytes(16).toString('hex');
      const rootSpanId = randomBytes(8).toString('hex');

      const placed = await request(`${system.url('order')}/orders`, {
        body: anOrderRequest({ style }),
        headers: { traceparent: `00-${traceId}-${rootSpanId}-01` },
      });
      expect(placed.status).toBe(202);
      const orderId = placed.body.id as string;
      await waitFor('the order to complete', async () => {
        const order = await request(`${system.url('order')}/orders/${orderId}`);
        return order.body.status === 'COMPLETED';
      });

      // Every message of the order was handled (the last outcome closes it) and exported.
      const spans = await waitFor(
        'the spans of every service, the last handling included',
        () => {
          const trace = receiver.trace(traceId);
          const seen = new Set(trace.map((span) => span.service));
          const consumers = trace.filter((span) => span.name.endsWith(' process'));
          return services.every((service) => seen.has(service)) &&
            consumers.length >= (style === 'event' ? 7 : 6)
            ? trace
            : undefined;
        },
        { timeoutMs: 20_000 },
      );

      const ids = new Set(spans.map((span) => span.spanId));
      const orphans = spans.filter(
        (span) => span.parentSpanId !== rootSpanId && !ids.has(span.parentSpanId),
      );
      expect(orphans.map((span) => `${span.service}: ${span.name}`)).toEqual([]);
      expect([...new Set(spans.map((span) => span.service))].sort()).toEqual([...services].sort());
      // No span of this order landed in another trace.
      const elsewhere = receiver.spans.filter(
        (span) =>
          span.attributes['messaging.message.conversation_id'] === orderId &&
          span.traceId !== traceId,
      );
      expect(elsewhere).toEqual([]);

      const byName = (pattern: RegExp) => spans.filter((span) => pattern.test(span.name));
      expect(byName(/^POST/).some((span) => span.service === 'order')).toBe(true);
      expect(byName(/^outbox write$/).length).toBeGreaterThan(0);
      expect(byName(/ publish$/).length).toBeGreaterThan(0);
      expect(
        spans.some(
          (span) =>
            span.attributes['db.system'] === 'postgresql' ||
            span.attributes['db.system.name'] === 'postgresql',
        ),
      ).toBe(true);
      // Across the broker: each handling is the child of the publish that sent its message.
      const byId = new Map(spans.map((span) => [span.spanId, span]));
      for (const handling of byName(/ process$/)) {
        expect(byId.get(handling.parentSpanId)?.name).toMatch(/ publish$/);
      }
      if (style === 'event') {
        expect(byName(/^statistics\.new-order process$/)).toHaveLength(1);
      } else {
        expect(byName(/^invoicing\.create-invoice process$/)).toHaveLength(1);
      }
    },
    60_000,
  );
});
