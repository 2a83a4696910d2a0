import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { SpanKind, activeTraceparent, startTracing, withSpan, type Tracing } from '@app/telemetry';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

describe('spans across the broker, with an in-memory exporter', () => {
  test('when tracing is off, then spans cost nothing visible: no traceparent is active inside one', async () => {
    const inside = await withSpan('outbox write', {}, async () => activeTraceparent());

    expect(inside).toBeUndefined();
    expect(startTracing({ service: 'order', env: {} }).enabled).toBe(false);
  });

  describe('when tracing is on', () => {
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;

    beforeAll(() => {
      tracing = startTracing({ service: 'invoicing', env: {}, exporter, simple: true });
    });

    afterAll(async () => {
      await tracing.shutdown();
    });

    test('then a consumer span continues the traceparent of the message, and a message sent while handling it continues that span', async () => {
      let sent: string | undefined;

      await withSpan(
        'invoicing.new-order process',
        { kind: SpanKind.CONSUMER, parent: `00-${TRACE_ID}-${PARENT_ID}-01` },
        async () => {
          await withSpan('outbox write', {}, async () => {
            sent = activeTraceparent();
          });
        },
      );

      const [write, handling] = exporter.getFinishedSpans();
      expect(handling?.spanContext().traceId).toBe(TRACE_ID);
      expect(handling?.parentSpanContext?.spanId).toBe(PARENT_ID);
      expect(handling?.kind).toBe(SpanKind.CONSUMER);
      expect(write?.parentSpanContext?.spanId).toBe(handling?.spanContext().spanId);
      expect(sent).toBe(`00-${TRACE_ID}-${write?.spanContext().spanId}-01`);
      expect(handling?.resource.attributes['service.name']).toBe('invoicing');
    });

    test('then a batch span continues its first message and links the others, skipping a malformed traceparent', async () => {
      exporter.reset();
      const other = 'a'.repeat(32);

      await withSpan(
        'invoicing.new-order process',
        {
          kind: SpanKind.CONSUMER,
          parent: `00-${TRACE_ID}-${PARENT_ID}-01`,
          links: [`00-${other}-${'b'.repeat(16)}-01`, 'not-a-traceparent', undefined],
        },
        async () => undefined,
      );

      const [batch] = exporter.getFinishedSpans();
      expect(batch?.spanContext().traceId).toBe(TRACE_ID);
      expect(batch?.links.map((link) => link.context.traceId)).toEqual([other]);
    });

    test('then a failing handler ends its span as an error', async () => {
      exporter.reset();

      await expect(
        withSpan('shipping.new-order process', {}, async () => {
          throw new Error('database gone');
        }),
      ).rejects.toThrow('database gone');

      const [span] = exporter.getFinishedSpans();
      expect(span?.status).toMatchObject({ code: 2, message: 'database gone' });
    });
  });
});
