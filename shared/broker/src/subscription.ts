import { Messages, type Envelope, type MessageType, type PayloadOf } from '@app/contracts';
import type { Logger } from '@app/runtime';
import type { Binding } from './topology';

/**
 * Where a delivery is recorded as handled: the queue it came from and its message. A
 * handler passes it to its repository, which claims it in the inbox in the transaction
 * of the effect.
 */
export interface InboxRef {
  consumer: string;
  messageId: string;
  type: string;
}

/**
 * What a repository needs of a delivery: its inbox entry (to record it handled) and its
 * envelope (to say what caused the messages it writes).
 */
export type DeliveryRef = Pick<IncomingMessage<unknown>, 'inbox' | 'envelope'>;

/** A delivery that parsed: its envelope and its validated payload. */
export interface IncomingMessage<P> {
  envelope: Envelope;
  payload: P;
  queue: string;
  /** The inbox entry that marks this delivery handled (queue, messageId, type). */
  inbox: InboxRef;
  /** 1 on the first try, 2 after the first retry, and so on. */
  attempt: number;
  redelivered: boolean;
  logger: Logger;
}

/** What a handler reports; `duplicate` when the inbox showed the message was handled before. */
export type HandlerOutcome = 'processed' | 'duplicate';

export type MessageHandler<T extends MessageType> = (
  message: IncomingMessage<PayloadOf<T>>,
) => Promise<HandlerOutcome | void>;

/**
 * Handles several deliveries of one type in one transaction (one statement, see
 * `createManyOnce` in @app/store). Resolves with an outcome per message, in order, once
 * all of them committed; throws when it could not, and the consumer then handles each
 * message alone with the single handler (the inbox absorbs what the batch did commit), so
 * a poison message goes through its retries without taking the others with it.
 */
export type BatchHandler<T extends MessageType> = (
  messages: IncomingMessage<PayloadOf<T>>[],
) => Promise<(HandlerOutcome | void)[]>;

export interface HandlerBinding {
  type: MessageType;
  handle: (message: IncomingMessage<unknown>) => Promise<HandlerOutcome | void>;
  /** Used when more than one delivery of the type is ready at once (see BatchHandler). */
  handleBatch?: (messages: IncomingMessage<unknown>[]) => Promise<(HandlerOutcome | void)[]>;
}

/** A message type's handler for one delivery and its handler for a batch of them. */
export interface Handlers<T extends MessageType> {
  handle: MessageHandler<T>;
  handleBatch: BatchHandler<T>;
}

/**
 * Pairs a message type with its handler, typed by the contract; a batch handler, if given
 * (as `handleBatch` or with `Handlers`), takes the deliveries that are ready together
 * under load.
 */
export function on<T extends MessageType>(
  type: T,
  handle: MessageHandler<T> | Handlers<T>,
  handleBatch?: BatchHandler<T>,
): HandlerBinding {
  const both = typeof handle === 'function' ? { handle, handleBatch } : handle;
  return {
    type,
    handle: both.handle as HandlerBinding['handle'],
    ...(both.handleBatch ? { handleBatch: both.handleBatch as HandlerBinding['handleBatch'] } : {}),
  };
}

/** One queue and the message types handled from it; bindings follow from the types. */
export interface Subscription {
  queue: string;
  handlers: HandlerBinding[];
  /**
   * A history stream to catch up from before the live queue is consumed (for example
   * `order.events.history`, see history.ts and docs/backfill.md). The consumer declares and
   * binds the queue first, so new messages wait there, then reads the stream from its first
   * offset up to the seam with the queue, handling each message with these handlers under
   * the queue's inbox name, so a message seen on both sides is absorbed as a duplicate.
   * Types without a handler here are skipped. Done once per queue.
   */
  backfillFrom?: string;
}

export const bindingsOf = (subscription: Subscription): Binding[] =>
  subscription.handlers.map(({ type }) => ({
    exchange: Messages[type].exchange,
    routingKey: Messages[type].routingKey,
  }));
