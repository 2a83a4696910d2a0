import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { AppError } from './errors';

/**
 * Where the generated contract documents are (docs/asyncapi.yaml, docs/asyncapi.html,
 * docs/openapi.json): the repository's docs folder, three levels up from this package's
 * src or dist.
 */
export const DEFAULT_DOCS_DIR = path.resolve(__dirname, '../../../docs');

const FILES = {
  'openapi.json': 'application/json',
  'asyncapi.yaml': 'application/yaml',
  'asyncapi.html': 'text/html',
} as const;

const swaggerUiDir = (): string => path.dirname(require.resolve('swagger-ui-dist/package.json'));

const page = (title: string, body: string, head = ''): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>${head}
<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem}li{margin:.4rem 0}</style>
</head><body>${body}</body></html>
`;

// Served as a file, not inline: the app's Content-Security-Policy (helmet) allows scripts
// from 'self' only.
const SWAGGER_INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#swagger-ui', deepLinking: true });
});
`;

/**
 * `GET /docs`: the contract documents for people, served from this process with no CDN:
 * OpenAPI in Swagger UI (assets from the swagger-ui-dist package), AsyncAPI as the static
 * page the generator renders, and both documents as files.
 */
export function docsRouter(dir: string = DEFAULT_DOCS_DIR): Router {
  const router = Router();
  const missing = (file: string) =>
    new AppError(
      'DOCS.NOT_AVAILABLE',
      404,
      `${file} is not deployed with this service; it is generated into docs/ by npm run contracts:generate.`,
    );

  router.get('/docs', (_req, res) => {
    res.type('html').send(
      page(
        'Contracts',
        `<h1>Contracts</h1>
<p>Generated from the zod contracts in shared/contracts (docs/versioning.md says how they may change).</p>
<ul>
<li><a href="/docs/openapi">HTTP APIs</a> (OpenAPI 3.1, Swagger UI) · <a href="/docs/openapi.json">openapi.json</a></li>
<li><a href="/docs/asyncapi">Messages</a> (AsyncAPI 3.0) · <a href="/docs/asyncapi.yaml">asyncapi.yaml</a></li>
</ul>`,
      ),
    );
  });
  router.get('/docs/openapi', (_req, res) => {
    res
      .type('html')
      .send(
        page(
          'HTTP APIs',
          '<div id="swagger-ui"></div><script src="/docs/swagger-ui/swagger-ui-bundle.js"></script><script src="/docs/openapi-init.js"></script>',
          '<link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css">',
        ),
      );
  });
  router.get('/docs/openapi-init.js', (_req, res) => {
    res.type('application/javascript').send(SWAGGER_INIT);
  });
  router.use('/docs/swagger-ui', express.static(swaggerUiDir(), { index: false }));
  router.get('/docs/asyncapi', (_req, res, next) => {
    sendDoc(res, next, dir, 'asyncapi.html');
  });
  for (const file of Object.keys(FILES) as (keyof typeof FILES)[]) {
    router.get(`/docs/${file}`, (_req, res, next) => sendDoc(res, next, dir, file));
  }

  function sendDoc(
    res: express.Response,
    next: express.NextFunction,
    folder: string,
    file: keyof typeof FILES,
  ): void {
    const full = path.join(folder, file);
    if (!existsSync(full)) {
      next(missing(file));
      return;
    }
    res.type(FILES[file]).sendFile(full);
  }
  return router;
}
