export * from './app';
export * from './errors';
export { docsRouter, DEFAULT_DOCS_DIR } from './docs';
