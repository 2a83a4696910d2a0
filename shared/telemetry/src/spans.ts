import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';

export { SpanKind };

const tracer = () => trace.getTracer('@app/telemetry');

/**
 * The W3C `traceparent` of the span active now, or undefined when none is (always so when
 * tracing is off: without an SDK the API keeps no context). A message built here continues
 * the trace of the request or delivery that caused it.
 */
export function activeTraceparent(): string | undefined {
  const span = trace.getSpan(context.active());
  return span ? traceparentOf(span) : undefined;
}

/** A span's context as a W3C `traceparent`; undefined for an invalid (non-sampled no-op) one. */
export function traceparentOf(span: Span): string | undefined {
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = spanContext.traceFlags.toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/** The context a message's `traceparent` header continues (the root context without one). */
export function contextOf(traceparent: unknown): Context {
  if (typeof traceparent !== 'string') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent: a message's `traceparent`; the active context when left out. */
  parent?: string | undefined;
  /**
   * Other spans this one works for, as `traceparent`s: the messages of a batch besides the
   * first (the parent), so each message's trace reaches the span that handled it.
   */
  links?: readonly (string | undefined)[];
}

/**
 * Runs `work` inside a new span, ended when it settles and marked as an error when it
 * throws. With tracing off the API hands out no-op spans: the cost is one function call.
 */
export function withSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = 'parent' in options ? contextOf(options.parent) : context.active();
  const links: Link[] = [];
  for (const traceparent of options.links ?? []) {
    const linked = trace.getSpanContext(contextOf(traceparent));
    if (linked && isSpanContextValid(linked)) links.push({ context: linked });
  }
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {}, links },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}
