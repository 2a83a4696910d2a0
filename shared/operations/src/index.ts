export {
  QueueNotFoundError,
  REPLAYED_HEADER,
  ReplayError,
  countDeadLetters,
  deadLetterQueueNames,
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
  type DeadLetter,
} from './dead-letters';
