export { BrokerConnection, redact, type BrokerConnectionOptions } from './connection';
export { Consumer, backfilledMarkerOf, type ConsumerOptions } from './consumer';
export {
  attemptOf,
  parseDelivery,
  verifySender,
  PoisonMessage,
  type ParsedDelivery,
  type RawDelivery,
} from './delivery';
export { InvalidMessageError } from './errors';
export { OrderHistory, declareHistoryStream, historyStreamsOf, queueExists } from './history';
export { FaultSettingsSchema, FaultSwitches, InjectedFault, type FaultSettings } from './faults';
export {
  buildMessage,
  messagesFor,
  childTraceparent,
  requireReplyTo,
  toPublishOptions,
  type Causation,
  type OutgoingMessage,
  type OutgoingProperties,
} from './message';
export {
  createMessagingMetrics,
  registerConnectionMetrics,
  type MessagingMetrics,
  type QueueDepth,
} from './metrics';
export { BrokerPermissions } from './permissions';
export { Publisher, type PublishResult } from './publisher';
export {
  RetryHeaders,
  copiedProperties,
  originalSenderOf,
  parkedHeaders,
  sendConfirmed,
  type DeadReason,
} from './settle';
export {
  bindingsOf,
  on,
  type BatchHandler,
  type DeliveryRef,
  type HandlerBinding,
  type Handlers,
  type HandlerOutcome,
  type InboxRef,
  type IncomingMessage,
  type MessageHandler,
  type Subscription,
} from './subscription';
export {
  DEFAULT_RETRY_DELAYS_MS,
  DELIVERY_LIMIT,
  deadLetterQueueOf,
  declareConsumerQueue,
  moveExchangesOf,
  ownerOfQueue,
  declarePublisherExchanges,
  retryQueueOf,
  type Binding,
  type QueueSpec,
} from './topology';
export { ObserverQueue, declareObserverQueue, observerBindings } from './observer';
