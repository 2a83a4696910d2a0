import { prepareTestServers } from './test-servers';

/**
 * Jest global set-up of the integration and end-to-end projects: chooses the servers (or
 * takes those the surrounding `npm test` chose) once for the whole jest run; the workers,
 * started afterwards, find them in the environment.
 */
export default async function globalSetup(): Promise<void> {
  process.stdout.write('\n');
  const { stop } = await prepareTestServers();
  (globalThis as { __stopInfrastructure?: () => Promise<void> }).__stopInfrastructure = stop;
}
