import { Messages, Queues, type MessageType } from '@app/contracts';

/** A message seen on an exchange by the demo's spy queues. */
export interface PublishedMessage {
  /** When the spy received it (ms since the epoch). */
  at: number;
  exchange: string;
  routingKey: string;
  type: string;
  /** The sending service (`appId`). */
  from: string;
  messageId: string;
  correlationId: string;
  /** `x-causation-id`: the message that caused this one. */
  causationId?: string;
}

/** A message a service handled, from the service's JSON log line. */
export interface HandledMessage {
  at: number;
  service: string;
  queue: string;
  type: string;
  messageId: string;
  correlationId: string;
}

export interface TrailStep {
  /** 1-based position in the trail. */
  step: number;
  at: number;
  from: string;
  exchange: string;
  routingKey: string;
  type: string;
  messageId: string;
  /** The step whose message caused this one, when it is in the trail. */
  causedBy?: number;
  deliveries: { queue: string; service: string; at: number }[];
}

/**
 * The message trail of one order: every message with its correlation id, in the order it
 * was published (the spy's time, or the first delivery's when that is earlier), each with the queues (and services) that handled it. A handled message
 * the spies missed still appears, with its exchange unknown.
 */
export function buildTrail(
  correlationId: string,
  published: PublishedMessage[],
  handled: HandledMessage[],
): TrailStep[] {
  const mine = handled.filter((entry) => entry.correlationId === correlationId);
  const messages = new Map<string, PublishedMessage>();
  for (const message of published) {
    if (message.correlationId === correlationId && !messages.has(message.messageId)) {
      messages.set(message.messageId, message);
    }
  }
  for (const entry of mine) {
    if (!messages.has(entry.messageId)) {
      messages.set(entry.messageId, {
        at: entry.at,
        exchange: '?',
        routingKey: '?',
        type: entry.type,
        from: '?',
        messageId: entry.messageId,
        correlationId,
      });
    }
  }
  // The spy hears a message a little after the broker routed it, now and then after a
  // consumer has already handled it: a message was published no later than its first delivery.
  for (const entry of mine) {
    const message = messages.get(entry.messageId);
    if (message && entry.at < message.at)
      messages.set(entry.messageId, { ...message, at: entry.at });
  }
  const ordered = [...messages.values()].sort((a, b) => a.at - b.at);
  const stepOf = new Map(ordered.map((message, i) => [message.messageId, i + 1]));
  return ordered.map((message, i) => {
    const causedBy = message.causationId ? stepOf.get(message.causationId) : undefined;
    return {
      step: i + 1,
      at: message.at,
      from: message.from,
      exchange: message.exchange,
      routingKey: message.routingKey,
      type: message.type,
      messageId: message.messageId,
      ...(causedBy === undefined ? {} : { causedBy }),
      deliveries: mine
        .filter((entry) => entry.messageId === message.messageId)
        .sort((a, b) => a.at - b.at)
        .map(({ queue, service, at }) => ({ queue, service, at })),
    };
  });
}

/**
 * The trail as lines for the terminal and the report, times relative to `start`:
 *
 *   +12 ms  1. order     -> order.events [order.new]  NewOrder  (msg 1a2b3c4d)
 *   +30 ms       handled from invoicing.new-order by invoicing
 */
export function formatTrail(steps: TrailStep[], start: number): string[] {
  const ms = (at: number): string => `+${Math.max(0, Math.round(at - start))} ms`.padStart(8);
  const fromWidth = Math.max(0, ...steps.map((step) => step.from.length));
  const targetWidth = Math.max(
    0,
    ...steps.map((step) => `${step.exchange} [${step.routingKey}]`.length),
  );
  const lines: string[] = [];
  for (const step of steps) {
    const target = `${step.exchange} [${step.routingKey}]`.padEnd(targetWidth);
    const cause = step.causedBy === undefined ? '' : `, caused by ${step.causedBy}`;
    lines.push(
      `${ms(step.at)}  ${String(step.step).padStart(2)}. ${step.from.padEnd(fromWidth)} -> ${target}  ` +
        `${step.type} (msg ${step.messageId.slice(0, 8)}${cause})`,
    );
    if (step.deliveries.length === 0) {
      lines.push(`${' '.repeat(8)}      not handled by any service`);
    }
    for (const delivery of step.deliveries) {
      lines.push(`${ms(delivery.at)}      handled from ${delivery.queue} by ${delivery.service}`);
    }
  }
  return lines;
}

/** The messages the processes handled, from their logs. */
export const handledBy = (
  processes: readonly { service: string; logs: Record<string, unknown>[] }[],
): HandledMessage[] => processes.flatMap((p) => handledFromLogs(p.service, p.logs));

/** The handled messages in a service's JSON log lines (the consumer logs each with these fields). */
export function handledFromLogs(
  service: string,
  lines: Record<string, unknown>[],
): HandledMessage[] {
  const handled: HandledMessage[] = [];
  for (const line of lines) {
    const { queue, type, messageId, correlationId, time, level } = line;
    if (level !== 'info' && level !== 30) continue;
    if (
      typeof queue !== 'string' ||
      typeof type !== 'string' ||
      typeof messageId !== 'string' ||
      typeof correlationId !== 'string'
    ) {
      continue;
    }
    const at = typeof time === 'string' ? Date.parse(time) : Number(time);
    if (!Number.isFinite(at)) continue;
    handled.push({ at, service, queue, type, messageId, correlationId });
  }
  return handled;
}

/** A message a trail must show: its type, the exchange it went to, the queues that handled it. */
export interface ExpectedStep {
  type: string;
  exchange: string;
  queues: string[];
}

/**
 * What the catalog says each message does: the exchange it is published to and every
 * consumer queue that takes it (sorted), so the expected trails follow a renamed queue.
 */
export const expectedSteps = (types: readonly MessageType[]): ExpectedStep[] =>
  types.map((type) => ({
    type,
    exchange: Messages[type].exchange,
    queues: Object.values(Queues)
      .filter((queue) => (queue.messages as readonly string[]).includes(type))
      .map((queue) => queue.name)
      .sort(),
  }));

/**
 * The differences between the expected and the actual trail, as readable sentences
 * (empty when the trail shows everything it should, and nothing else). The order of the
 * steps may vary: subscribers and recipients work in parallel. A queue that logged the
 * same message twice counts once.
 */
export function trailMismatches(expected: readonly ExpectedStep[], steps: TrailStep[]): string[] {
  const problems: string[] = [];
  for (const wanted of expected) {
    const step = steps.find((s) => s.type === wanted.type);
    if (!step) {
      problems.push(`no ${wanted.type}`);
      continue;
    }
    if (step.exchange !== wanted.exchange) {
      problems.push(`${wanted.type} went to ${step.exchange}, not ${wanted.exchange}`);
    }
    const queues = [...new Set(step.deliveries.map((delivery) => delivery.queue))].sort();
    if (queues.join() !== [...wanted.queues].sort().join()) {
      problems.push(
        `${wanted.type} handled from [${queues.join(', ')}], expected [${wanted.queues.join(', ')}]`,
      );
    }
  }
  const unexpected = steps.filter((step) => !expected.some((wanted) => wanted.type === step.type));
  for (const step of unexpected) problems.push(`unexpected ${step.type}`);
  return problems;
}
