export { claimInbox } from './inbox';
export {
  cancelOnce,
  createOnce,
  isUniqueViolation,
  renumber,
  writeOnce,
  type CancelResult,
  type CreateOnce,
  type OnceResult,
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
export { databaseProblem, type SqlClient } from './sql';
export {
  Retention,
  inboxRetention,
  outboxRetention,
  type RetentionOptions,
  type RetentionRun,
  type RetentionTarget,
} from './retention';
