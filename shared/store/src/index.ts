export { claimInbox } from './inbox';
export {
  cancelOnce,
  createForOrdersOnce,
  createManyOnce,
  createOnce,
  isUniqueViolation,
  renumber,
  writeManyOnce,
  writeOnce,
  type CancelResult,
  type CreateOnce,
  type OnceResult,
  type OrderEntityOutcome,
  type OnceWrite,
  type Statement,
} from './once';
export {
  OutboxRelay,
  addToOutbox,
  outboxInsert,
  outboxRows,
  type OutboxRelayOptions,
} from './outbox';
export { PgDatabase } from './pg-database';
export { databaseProblem, type OutboxHandoff, type SqlClient } from './sql';
export {
  Retention,
  inboxRetention,
  outboxRetention,
  type RetentionOptions,
  type RetentionRun,
  type RetentionTarget,
} from './retention';
