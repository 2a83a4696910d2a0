import { writeSync } from 'node:fs';
import { z } from 'zod';
import { delay, type Logger } from '@app/runtime';

/**
 * Fault switches for tests and workshops: make handlers slow, fail a number of times or
 * for good, hold the outbox relay, or crash the process right after a publish was
 * confirmed and before the outbox row is marked sent. All off by default; the service
 * refuses them in production.
 */
export const FaultSettingsSchema = z.strictObject({
  /** Every handled message waits this long first. */
  handlerDelayMs: z.int().min(0).max(600_000).default(0),
  /** Each message fails on its first N attempts (transient), then succeeds. */
  handlerFailTimes: z.int().min(0).max(100).default(0),
  /** Every attempt fails (permanent failure). */
  handlerFailAlways: z.boolean().default(false),
  /** Limits the handler faults to these message types; empty means all. */
  messageTypes: z.array(z.string()).default([]),
  /** The relay publishes nothing: messages wait in the outbox as they would during a crash. */
  relayPaused: z.boolean().default(false),
  /** SIGKILL the process after the first confirmed publish, before marking its row sent. */
  crashAfterPublish: z.boolean().default(false),
});
export type FaultSettings = z.infer<typeof FaultSettingsSchema>;

export class InjectedFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectedFault';
  }
}

export class FaultSwitches {
  private settings: FaultSettings;

  constructor(
    initial: Partial<FaultSettings> = {},
    private readonly logger?: Logger,
  ) {
    this.settings = FaultSettingsSchema.parse(initial);
  }

  get current(): FaultSettings {
    return { ...this.settings };
  }

  /** Replaces the settings; throws a ZodError for invalid ones. */
  set(next: Partial<FaultSettings>): FaultSettings {
    this.settings = FaultSettingsSchema.parse(next);
    this.logger?.warn({ faults: this.settings }, 'fault switches changed');
    return this.current;
  }

  get active(): boolean {
    const s = this.settings;
    return (
      s.handlerDelayMs > 0 ||
      s.handlerFailTimes > 0 ||
      s.handlerFailAlways ||
      s.relayPaused ||
      s.crashAfterPublish
    );
  }

  /** Called before a handler runs; delays or throws as configured. */
  async beforeHandle(type: string, attempt: number): Promise<void> {
    const s = this.settings;
    if (s.messageTypes.length > 0 && !s.messageTypes.includes(type)) return;
    if (s.handlerDelayMs > 0) await delay(s.handlerDelayMs);
    if (s.handlerFailAlways) throw new InjectedFault(`injected permanent failure of ${type}`);
    if (attempt <= s.handlerFailTimes) {
      throw new InjectedFault(
        `injected transient failure of ${type} (attempt ${attempt} of ${s.handlerFailTimes} failing)`,
      );
    }
  }

  get relayPaused(): boolean {
    return this.settings.relayPaused;
  }

  /** Called after a publish was confirmed and before its outbox row is marked sent. */
  afterConfirm(): void {
    if (this.settings.crashAfterPublish) {
      // Written synchronously: pino's asynchronous stdout would lose the line to the kill.
      writeSync(
        1,
        `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), pid: process.pid, msg: 'injected crash after a confirmed publish, before marking it sent' })}\n`,
      );
      process.kill(process.pid, 'SIGKILL');
    }
  }
}
