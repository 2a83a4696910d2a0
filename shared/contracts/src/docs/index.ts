// Tooling over the contracts, for scripts and tests only (package subpath `@app/contracts/docs`):
// docs/asyncapi.yaml, docs/openapi.json and the breaking-change check are built from here.
export * from './json-schema';
export * from './asyncapi';
export * from './openapi';
export * from './compatibility';
export * from './html';
