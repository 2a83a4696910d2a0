import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { closeServer, createHttpApp, finishApp, listen } from '../../src';

async function serve(docsDir?: string): Promise<{ server: Server; base: string }> {
  const app = createHttpApp({
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    readiness: async () => ({}),
    ...(docsDir ? { docsDir } : {}),
  });
  const server = await listen(finishApp(app), 0, '127.0.0.1');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('GET /docs: the contract documents, served locally', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    ({ server, base } = await serve());
  });

  afterAll(async () => {
    await closeServer(server);
  });

  test('when /docs is opened, then it links the OpenAPI and AsyncAPI viewers and both documents', async () => {
    const response = await fetch(`${base}/docs`);
    const html = await response.text();

    expect(response.status).toBe(200);
    for (const link of [
      '/docs/openapi',
      '/docs/openapi.json',
      '/docs/asyncapi',
      '/docs/asyncapi.yaml',
    ]) {
      expect(html).toContain(`href="${link}"`);
    }
  });

  test('when the OpenAPI viewer is opened, then Swagger UI and its assets come from this server, none from a CDN', async () => {
    const html = await (await fetch(`${base}/docs/openapi`)).text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);

    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset.startsWith('/docs/')).toBe(true);
      const response = await fetch(`${base}${asset}`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    expect(await (await fetch(`${base}/docs/openapi-init.js`)).text()).toContain(
      "url: 'openapi.json'",
    );
  });

  test('when the documents are asked for, then the generated files are served with their types', async () => {
    const openapi = await fetch(`${base}/docs/openapi.json`);
    const asyncapi = await fetch(`${base}/docs/asyncapi.yaml`);
    const page = await fetch(`${base}/docs/asyncapi`);

    expect(((await openapi.json()) as { openapi: string }).openapi).toBe('3.1.0');
    expect(await asyncapi.text()).toMatch(/^asyncapi: 3\.0\.0$/m);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('id="NewOrder"');
  });

  test('when the documents are not deployed, then /docs/openapi.json answers a 404 problem saying so', async () => {
    const empty = await serve(mkdtempSync(join(tmpdir(), 'no-docs-')));
    try {
      const response = await fetch(`${empty.base}/docs/openapi.json`);
      const problem = (await response.json()) as { code: string; detail: string };

      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(problem).toMatchObject({ code: 'DOCS.NOT_AVAILABLE' });
      expect(problem.detail).toContain('npm run contracts:generate');
    } finally {
      await closeServer(empty.server);
    }
  });
});
