export { startTracing, type Tracing, type TracingOptions } from './tracing';
export {
  SpanKind,
  activeTraceparent,
  contextOf,
  traceparentOf,
  withSpan,
  type SpanOptions,
} from './spans';
