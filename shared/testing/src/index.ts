// The harness's public face: what tests, the demo and the bench may use.

/** A system of services as real processes (end-to-end tests, demo, bench). */
export {
  startSystem,
  unbuiltServices,
  RunningSystem,
  type SystemOptions,
  type SystemVhost,
  type Servers,
  type Faults,
} from './system';
export type { ServiceProcess } from './processes';
/** The dashboard beside a system, with its read-only observer user. */
export { startDashboard } from './dashboard';
export { grantObserverPermissions } from './least-privilege';
/** One service in-process, on its own vhost and database (a service's integration tests). */
export {
  startServiceUnderTest,
  type ServiceUnderTest,
  type StartedService,
} from './service-under-test';

/** Real infrastructure: where the servers are, vhosts and databases of a test's own. */
export {
  LOCAL_DEFAULTS,
  currentInfrastructure,
  mayUseLocalServers,
  serverProblems,
  redact,
  type Infrastructure,
} from './infrastructure';
export {
  BrokerControl,
  brokerControl,
  containerCommands,
  containerPostgres,
  localCommands,
  localPostgres,
  postgresControl,
  type BrokerConnection,
  type CommandRunner,
  type PostgresControl,
} from './server-control';
export { localContacts, DEFAULT_TRIPWIRE_PORTS, type LocalContact } from './local-contacts';
export { prepareTestServers, type PreparedServers } from './test-servers';
export { default as globalSetup } from './global-setup';
export { default as globalTeardown } from './global-teardown';
export { createTestVhost, type TestVhost } from './broker';
export { createTestDatabase, REPO_ROOT, type TestDatabase } from './databases';
export type { NamedDatabase } from './named-resources';
export { uniqueTestName } from './names';
export { freePort } from './processes';

/** Driving and observing: HTTP, the broker, waiting, the books, faults on the wire. */
export { request } from './http';
export { TestBroker, type Spy, type ReceivedMessage } from './test-broker';
export { waitFor } from './wait';
export { checkLedger, type Ledger, type LedgerOptions } from './ledger';
export { TcpProxy, type TcpTarget } from './tcp-proxy';

/** Builders of valid messages and requests, with overrides. */
export { anAddress, anItem, anOrderRequest, aNewOrder } from './builders';
export { aMessage, MessageBuilders } from './message-builders';
/** The examples of docs/asyncapi.yaml, for the consumers' contract tests. */
export { contractExamples, deliveryOfExample, type ContractExample } from './contract';
