import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { AppError, closeServer, createHttpApp, finishApp, listen, parseInput } from '../../src';

const SECRET = 'password=hunter2 at db.internal:5432';

describe('the shared HTTP edge', () => {
  const logLines: Record<string, unknown>[] = [];
  const readiness: Record<string, string | undefined> = { database: undefined, broker: undefined };
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void logLines.push(JSON.parse(line)) },
    );
    const app = createHttpApp({
      logger,
      registry: new Registry(),
      readiness: async () => ({ ...readiness }),
    });
    app.get('/things/:id', (req) => {
      throw AppError.notFound('THING.NOT_FOUND', `Thing ${req.params.id} does not exist.`);
    });
    app.post('/things', (req, res) => {
      const body = parseInput(
        z.object({ name: z.string().min(1), count: z.int() }),
        req.body,
        'body',
      );
      res.status(201).json(body);
    });
    app.get('/conflict', () => {
      throw new AppError('THING.CONFLICT', 409, 'The thing changed meanwhile.');
    });
    app.get('/database-down', () => {
      throw Object.assign(new Error(`connect ECONNREFUSED ${SECRET}`), { code: 'ECONNREFUSED' });
    });
    app.get('/database-dropped', async () => {
      await Promise.resolve();
      throw new Error('Connection terminated unexpectedly');
    });
    app.get('/crash', () => {
      throw new Error(`connection refused: ${SECRET}`);
    });
    app.get('/crash-async', async () => {
      await Promise.resolve();
      throw new TypeError(`cannot read properties of undefined (${SECRET})`);
    });
    server = await listen(finishApp(app), 0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await closeServer(server);
  });

  beforeEach(() => {
    readiness.database = undefined;
    readiness.broker = undefined;
  });

  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${base}${path}`, init);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: body as Record<string, unknown>,
    };
  };

  const post = (path: string, body: string, contentType = 'application/json') =>
    call(path, { method: 'POST', body, headers: { 'content-type': contentType } });

  test('when a route throws an AppError, then the answer has its status and a problem+json body with its code', async () => {
    const response = await call('/conflict', { headers: { 'x-request-id': 'req-123' } });

    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('x-request-id')).toBe('req-123');
    expect(response.body).toEqual({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'The thing changed meanwhile.',
      code: 'THING.CONFLICT',
      instance: '/conflict',
      requestId: 'req-123',
    });
  });

  test('when a route throws a not-found AppError, then the answer is 404 with the stable code', async () => {
    const response = await call('/things/42');

    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({
      code: 'THING.NOT_FOUND',
      detail: 'Thing 42 does not exist.',
      title: 'Not Found',
    });
  });

  test('when input fails validation, then the answer is 400 naming every offending field', async () => {
    const response = await post('/things', JSON.stringify({ name: '', count: 1.5 }));

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'REQUEST.INVALID' });
    expect(response.body.errors).toEqual([
      expect.objectContaining({ field: 'body.name' }),
      expect.objectContaining({ field: 'body.count' }),
    ]);
  });

  test('when valid JSON is posted, then the route gets the parsed body', async () => {
    const response = await post('/things', JSON.stringify({ name: 'lamp', count: 2 }));

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ name: 'lamp', count: 2 });
  });

  test.each(['/crash', '/crash-async'])(
    'when %s throws a plain error, then the answer is 500 INTERNAL without its message or stack, and it is logged with the request id',
    async (path) => {
      const response = await call(path);

      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({
        code: 'INTERNAL',
        status: 500,
        title: 'Internal Server Error',
      });
      expect(response.text).not.toContain('hunter2');
      expect(response.text).not.toMatch(/\bat .*\.ts:\d+/);
      expect(response.body).not.toHaveProperty('stack');
      const logged = logLines.find(
        (line) => line.requestId === response.body.requestId && line.msg === 'request failed',
      );
      expect(logged).toMatchObject({
        url: path,
        err: expect.objectContaining({ message: expect.stringContaining('hunter2') }),
      });
    },
  );

  test.each(['/database-down', '/database-dropped'])(
    'when the database cannot be reached (%s), then the answer is 503 problem+json with a Retry-After and no driver text',
    async (path) => {
      const response = await call(path);

      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.body).toMatchObject({
        status: 503,
        title: 'Service Unavailable',
        code: 'DATABASE.UNAVAILABLE',
        detail: expect.stringContaining('try again'),
      });
      expect(response.text).not.toContain('hunter2');
      expect(response.text).not.toContain('ECONNREFUSED');
    },
  );

  test('when a route fails unexpectedly, then the 500 carries no Retry-After', async () => {
    const response = await call('/crash');

    expect(response.status).toBe(500);
    expect(response.headers.get('retry-after')).toBeNull();
  });

  test('when an unknown path is asked for, then the answer is 404 problem+json', async () => {
    const response = await call('/no/such/route');

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ code: 'ROUTE.NOT_FOUND', instance: '/no/such/route' });
  });

  test('when the body is malformed JSON, then the answer is 400', async () => {
    const response = await post('/things', '{"name": ');

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ code: 'REQUEST.MALFORMED_JSON' });
  });

  test('when the body is text/plain, then the answer is 415', async () => {
    const response = await post('/things', 'name=lamp', 'text/plain');

    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE' });
  });

  test('when the body is 2 MB, then the answer is 413', async () => {
    const response = await post(
      '/things',
      JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), count: 1 }),
    );

    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ code: 'REQUEST.TOO_LARGE' });
  });

  test('when any answer is sent, then it does not advertise the framework and carries security headers', async () => {
    const response = await call('/health/live');

    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('when the process runs, then /health/live is 200', async () => {
    const response = await call('/health/live');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'up' });
  });

  test('when every dependency is up, then /health/ready is 200', async () => {
    const response = await call('/health/ready');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', checks: { database: 'up', broker: 'up' } });
  });

  test('when the readiness check reports a problem, then /health/ready is 503 naming what is down', async () => {
    readiness.broker = 'connection refused';

    const response = await call('/health/ready');

    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      status: 'not ready',
      checks: { database: 'up', broker: 'down' },
    });
  });

  test.each([
    ['too long', 'r'.repeat(129)],
    ['with spaces and quotes', 'a b"c'],
    ['with a newline', 'a\\nb'],
  ])(
    'when a caller sends a request id %s, then it is replaced by a fresh one',
    async (_case, id) => {
      const response = await call('/things/7', { headers: { 'x-request-id': id } });

      expect(response.headers.get('x-request-id')).not.toBe(id);
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  test('when /metrics is scraped, then it is Prometheus text counting requests by route and status', async () => {
    await call('/things/7');

    const response = await call('/metrics');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(response.text).toContain('# TYPE http_requests_total counter');
    expect(response.text).toMatch(
      /http_requests_total\{method="GET",route="\/things\/:id",status="404"\} \d+/,
    );
    expect(response.text).toMatch(
      /http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/,
    );
    expect(response.text).toContain('process_cpu_user_seconds_total');
  });

  test('when the port is already taken, then listen() rejects instead of crashing the process', async () => {
    const port = (server.address() as AddressInfo).port;
    const app = createHttpApp({
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      readiness: async () => ({}),
    });

    await expect(listen(finishApp(app), port, '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
  });
});
