export { Messaging, type MessagingOptions } from './messaging';
export {
  startService,
  type RunningHttpService,
  type ServiceConfig,
  type ServiceDatabase,
  type ServiceParts,
  type StartServiceOptions,
} from './start-service';
