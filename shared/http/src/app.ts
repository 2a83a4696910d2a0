import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { Counter, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { Logger } from '@app/runtime';
import { docsRouter } from './docs';
import { AppError } from './errors';

/** Reports what is down: a name per dependency, with the problem, or undefined when up. */
export type ReadinessCheck = () => Promise<Record<string, string | undefined>>;

export interface HttpAppOptions {
  logger: Logger;
  registry: Registry;
  readiness: ReadinessCheck;
  /** Largest accepted request body. */
  bodyLimit?: string;
  /** Where the generated contract documents are, served at `/docs` (default: the repo's docs/). */
  docsDir?: string;
}

declare module 'express-serve-static-core' {
  interface Locals {
    logger: Logger;
    requestId: string;
  }
}

const PROBLEM_JSON = 'application/problem+json';

/** Letters, digits and `._:-`, at most 128: what a request id from a caller may be. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * An Express app with the edge every service shares: security headers, JSON-only
 * bodies with a size limit, request logging, health and metrics endpoints.
 * Mount routes on it, then call `finishApp` to add the 404 and error handlers.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const { logger, registry } = options;
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet());
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    // A caller's request id is kept only if it looks like one; it ends up in logs.
    const offered = req.get('x-request-id');
    const requestId = offered && REQUEST_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.locals.logger = logger.child({ requestId });
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const route = routeOf(req);
      requests.inc({ method: req.method, route, status: res.statusCode });
      duration.observe(
        { method: req.method, route },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      if (!req.path.startsWith('/health') && req.path !== '/metrics') {
        res.locals.logger.debug(
          { method: req.method, url: req.originalUrl, status: res.statusCode },
          'request',
        );
      }
    });
    next();
  });
  app.use(requireJsonBody);
  app.use(express.json({ limit: options.bodyLimit ?? '1mb', strict: true }));

  app.get('/health/live', (_req, res) => {
    res.json({ status: 'up' });
  });
  let lastDown = '';
  app.get('/health/ready', async (_req, res) => {
    const checks = await options.readiness().catch((err: unknown) => ({
      readiness: err instanceof Error ? err.message : String(err),
    }));
    const down = Object.entries(checks).filter(([, problem]) => problem !== undefined);
    // Anyone may ask; only the log (on each change) hears the drivers' error text.
    const described = JSON.stringify(down);
    if (described !== lastDown && down.length > 0) {
      options.logger.warn({ down: Object.fromEntries(down) }, 'not ready');
    }
    lastDown = described;
    const body = {
      status: down.length === 0 ? 'ready' : 'not ready',
      checks: Object.fromEntries(
        Object.entries(checks).map(([name, problem]) => [
          name,
          problem === undefined ? 'up' : 'down',
        ]),
      ),
    };
    res.status(down.length === 0 ? 200 : 503).json(body);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(docsRouter(options.docsDir));
  return app;
}

/** Adds the 404 for unknown paths and the one error handler. Call after mounting routes. */
export function finishApp(app: Express): Express {
  app.use((req, _res, next) => {
    next(new AppError('ROUTE.NOT_FOUND', 404, `No route for ${req.method} ${req.path}.`));
  });
  app.use(errorHandler);
  return app;
}

const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody =
    Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    next(
      new AppError(
        'REQUEST.UNSUPPORTED_MEDIA_TYPE',
        415,
        `Content-Type must be application/json, not ${req.get('content-type') ?? 'missing'}.`,
      ),
    );
    return;
  }
  next();
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const logger = res.locals.logger;
  const problem = toProblem(err);
  if (problem.status >= 500) {
    logger.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
  }
  if (problem.retryAfterSeconds !== undefined) {
    res.setHeader('retry-after', String(problem.retryAfterSeconds));
  }
  res
    .status(problem.status)
    .type(PROBLEM_JSON)
    .send(
      JSON.stringify({
        type: `about:blank`,
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        code: problem.code,
        instance: req.originalUrl,
        requestId: res.locals.requestId,
        ...(problem.errors ? { errors: problem.errors } : {}),
      }),
    );
};

function toProblem(err: unknown): {
  status: number;
  title: string;
  detail: string;
  code: string;
  errors?: unknown[];
  /** Sent as `Retry-After`: the request may well succeed if repeated after it. */
  retryAfterSeconds?: number;
} {
  if (err instanceof AppError) {
    return {
      status: err.status,
      title: titleOf(err.status),
      detail: err.detail,
      code: err.code,
      ...(err.options.errors ? { errors: err.options.errors } : {}),
      ...(err.options.retryAfterSeconds === undefined
        ? {}
        : { retryAfterSeconds: err.options.retryAfterSeconds }),
    };
  }
  const parserError = err as BodyParserError;
  if (parserError?.type === 'entity.too.large') {
    return {
      status: 413,
      title: titleOf(413),
      code: 'REQUEST.TOO_LARGE',
      detail: `The body exceeds the limit of ${parserError.limit} bytes.`,
    };
  }
  if (parserError?.type === 'entity.parse.failed') {
    return {
      status: 400,
      title: titleOf(400),
      code: 'REQUEST.MALFORMED_JSON',
      detail: 'The body is not valid JSON.',
    };
  }
  if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') {
    return {
      status: 415,
      title: titleOf(415),
      code: 'REQUEST.UNSUPPORTED_ENCODING',
      detail: 'The body encoding is not supported.',
    };
  }
  if (
    typeof parserError?.status === 'number' &&
    parserError.status >= 400 &&
    parserError.status < 500
  ) {
    return {
      status: parserError.status,
      title: titleOf(parserError.status),
      code: 'REQUEST.INVALID',
      detail: 'The request could not be read.',
    };
  }
  if (isDatabaseUnavailable(err)) {
    return {
      status: 503,
      title: titleOf(503),
      code: 'DATABASE.UNAVAILABLE',
      detail: 'The database is not reachable right now; try again shortly.',
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    };
  }
  return {
    status: 500,
    title: titleOf(500),
    code: 'INTERNAL',
    detail: 'An unexpected error occurred; it has been logged.',
  };
}

/**
 * A database outage is transient, so the 503 says when to come back (RFC 9110 10.2.3): a
 * client that retries (with its `Idempotency-Key`, in case the write did commit) is not
 * told to hammer a database that is reconnecting. Five seconds: about one pool connect
 * timeout, short enough for a blip, long enough not to pile up retries.
 */
const DATABASE_RETRY_AFTER_SECONDS = 5;

// Connection failures of the pg driver and Prisma: the service is unavailable, not broken.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  '57P01',
  '57P03',
  '08001',
  '08006',
  'P1001',
  'P1017',
  'P2024',
  'P2028',
]);

function isDatabaseUnavailable(err: unknown): boolean {
  const candidate = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof candidate?.code === 'string' && UNAVAILABLE_CODES.has(candidate.code)) return true;
  const message = typeof candidate?.message === 'string' ? candidate.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Can't reach database/i.test(
    message,
  );
}

function titleOf(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    404: 'Not Found',
    409: 'Conflict',
    413: 'Content Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Content',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  return titles[status] ?? 'Error';
}

function routeOf(req: express.Request): string {
  const route = req.route as { path?: string } | undefined;
  return route?.path ? `${req.baseUrl}${route.path}` : 'unmatched';
}

/** Starts listening; resolves with the server once bound (port 0 picks a free port). */
export function listen(app: Express, port: number, host = '0.0.0.0'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.keepAliveTimeout = 5_000;
  });
}

/** Stops accepting connections and waits for requests in flight. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
