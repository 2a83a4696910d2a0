import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout; every line names the service, and the correlation id where there is one. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.errWithCause },
  });
}
