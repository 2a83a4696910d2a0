import { resolveInfrastructure } from './infrastructure';

/** Jest global set-up of the integration and end-to-end projects. */
export default async function globalSetup(): Promise<void> {
  const { infrastructure, stop } = await resolveInfrastructure();
  (globalThis as { __stopInfrastructure?: () => Promise<void> }).__stopInfrastructure = stop;
  process.stdout.write(`\ntest infrastructure: ${infrastructure.source}\n`);
}
