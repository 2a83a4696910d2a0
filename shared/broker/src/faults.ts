import { writeSync } from 'node:fs';
import { z } from 'zod';
import { delay, type Logger } from '@app/runtime';

/**
 * Fault switches for tests and workshops: make handlers slow, fail a number of times or
 * for good, hold the outbox relay, or crash the process (SIGKILL) in the windows the
 * outbox and the inbox exist for: inside a handler before its effect, after a handler
 * committed and before its ack, after a publish was confirmed and before its outbox row is
 * marked sent. All off by default; a service refuses them unless ALLOW_FAULT_SWITCHES=true.
 */
export const FaultSettingsSchema = z.strictObject({
  /**
   * Every handler call waits this long first: one delivery, or a batch of them handled
   * together (their waits overlap, as those of deliveries handled side by side do).
   */
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
  /**
   * SIGKILL the process after this many confirmed publishes (counted since it started),
   * before their rows are marked sent: a relay dying in the middle of a batch. 0 is off.
   */
  crashAfterConfirms: z.int().min(0).max(1_000_000).default(0),
  /**
   * SIGKILL the process in a handler (after `handlerDelayMs`), before any effect: a
   * message that kills its consumer every time it is delivered.
   */
  crashInHandler: z.boolean().default(false),
  /** SIGKILL the process after a handler committed its effect and before the delivery is acked. */
  crashBeforeAck: z.boolean().default(false),
  /**
   * SIGKILL the process in the middle of acknowledging a batch: after this many of its
   * deliveries were acked (and the acks sent), before the rest. 0 is off; only batches of
   * more deliveries than this are cut.
   */
  crashMidBatchAcks: z.int().min(0).max(1_000).default(0),
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
  private confirms = 0;

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
      s.crashAfterPublish ||
      s.crashAfterConfirms > 0 ||
      s.crashInHandler ||
      s.crashBeforeAck ||
      s.crashMidBatchAcks > 0
    );
  }

  /** Called before a handler runs; delays or throws as configured. */
  async beforeHandle(type: string, attempt: number): Promise<void> {
    const s = this.settings;
    if (!this.appliesTo(type)) return;
    if (s.handlerDelayMs > 0) await delay(s.handlerDelayMs);
    if (s.crashInHandler) crash(`injected crash inside the handler of ${type}, before its effect`);
    if (s.handlerFailAlways) throw new InjectedFault(`injected permanent failure of ${type}`);
    if (attempt <= s.handlerFailTimes) {
      throw new InjectedFault(
        `injected transient failure of ${type} (attempt ${attempt} of ${s.handlerFailTimes} failing)`,
      );
    }
  }

  /** Called after a handler's transaction committed and before its delivery is acked. */
  afterHandle(type: string): void {
    if (this.settings.crashBeforeAck && this.appliesTo(type)) {
      crash(`injected crash after the handler of ${type} committed, before its ack`);
    }
  }

  /**
   * Called after `acked` of a batch's `size` deliveries were acked: with `crashMidBatchAcks`
   * equal to `acked` and more left, waits for the acks to reach the socket, then crashes.
   */
  async midBatch(type: string, acked: number, size: number): Promise<void> {
    const { crashMidBatchAcks } = this.settings;
    if (crashMidBatchAcks === 0 || acked !== crashMidBatchAcks || size <= acked) return;
    if (!this.appliesTo(type)) return;
    // The acks go out when amqplib's writer next runs; let it.
    await delay(100);
    crash(`injected crash after acking ${acked} of a batch of ${size} ${type}, before the rest`);
  }

  private appliesTo(type: string): boolean {
    const { messageTypes } = this.settings;
    return messageTypes.length === 0 || messageTypes.includes(type);
  }

  get relayPaused(): boolean {
    return this.settings.relayPaused;
  }

  /** Called after a publish was confirmed and before its outbox row is marked sent. */
  afterConfirm(): void {
    this.confirms += 1;
    const { crashAfterPublish, crashAfterConfirms } = this.settings;
    if (crashAfterPublish || (crashAfterConfirms > 0 && this.confirms >= crashAfterConfirms)) {
      crash(
        `injected crash after ${this.confirms} confirmed publish(es), before marking them sent`,
      );
    }
  }
}

/**
 * Kills this process at once, as a power cut or the OOM killer would: no handler, no
 * cleanup. The line is written synchronously: pino's asynchronous stdout would lose it.
 */
function crash(reason: string): never {
  writeSync(
    1,
    `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), pid: process.pid, msg: reason })}\n`,
  );
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is not delivered synchronously: nothing after this point may run.
  throw new Error(reason);
}
