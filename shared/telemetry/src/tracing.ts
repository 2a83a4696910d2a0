import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/** What `startTracing` started; `shutdown` flushes the spans not exported yet. */
export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` of every span (the service's name, as in its AMQP `appId`). */
  service: string;
  env?: NodeJS.ProcessEnv;
  /** Replaces the OTLP exporter (tests: an in-memory exporter). Enables tracing by itself. */
  exporter?: SpanExporter;
  /** Export each span as it ends instead of in batches (tests). */
  simple?: boolean;
}

/** Paths whose requests would be noise in every trace: probes and scrapes. */
const UNTRACED_PATHS = /^\/(health\/|metrics$|api\/events$)/;

/**
 * Starts OpenTelemetry tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (or an exporter
 * is given): the Node SDK with the http, express and pg instrumentations, W3C trace context,
 * a resource naming the service, and sampling from `OTEL_TRACES_SAMPLER_ARG` (a ratio,
 * default 1) respected for child spans of a sampled parent. Call it before express and pg
 * are loaded (a service's `tracing.ts`, imported first by its main.ts): the
 * instrumentations patch modules as they are required.
 *
 * Without an endpoint it loads nothing: no SDK, no patched modules, and the spans the
 * broker and store code asks for are the API's no-ops.
 */
export function startTracing(options: TracingOptions): Tracing {
  const env = options.env ?? process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!options.exporter && !endpoint) return { enabled: false, shutdown: async () => undefined };

  // Required here, not imported at the top: a process without an endpoint never loads them.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeTracerProvider } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const base =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation } =
    require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const exporter = options.exporter ?? otlpExporter();
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME ?? options.service,
      'service.namespace': 'async-messaging',
      'service.instance.id': env.INSTANCE_ID ?? `${options.service}-${process.pid}`,
    }),
    sampler: new base.ParentBasedSampler({
      root: new base.TraceIdRatioBasedSampler(Number.isFinite(ratio) ? ratio : 1),
    }),
    spanProcessors: [
      options.simple
        ? new base.SimpleSpanProcessor(exporter)
        : new base.BatchSpanProcessor(exporter, {
            maxQueueSize: 4096,
            scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY ?? '1000') || 1000,
          }),
    ],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: { url?: string }) =>
          UNTRACED_PATHS.test(request.url ?? ''),
      }),
      new ExpressInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  // A service exits right after its orderly stop: export what the batch still holds first.
  process.once('SIGTERM', () => void provider.forceFlush().catch(() => undefined));
  return {
    enabled: true,
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}

function otlpExporter(): SpanExporter {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing */
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // Reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _TIMEOUT) itself; sends to <endpoint>/v1/traces.
  return new OTLPTraceExporter();
}
