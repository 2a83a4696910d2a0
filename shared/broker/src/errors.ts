/**
 * Thrown by a handler for a message that parsed but can never be processed (for example a
 * command without a usable `replyTo`): it is parked at once instead of being retried.
 */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}
