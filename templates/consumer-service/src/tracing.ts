// Imported first by main.ts: the instrumentations must patch http, express and pg before
// anything loads them. Does nothing unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { startTracing } from '@app/telemetry';

startTracing({ service: '__name__' });
