import { Messages, isMessageType } from '@app/contracts';
import { destinationsOf } from './topology';

/** One message as the observer saw it on the broker. */
export interface SeenMessage {
  at: number;
  type: string;
  from: string;
  exchange: string;
  routingKey: string;
  messageId: string;
  correlationId: string;
  causationId?: string;
}

/** A step of an order's trail: the message, where it went, and whether it was only inferred. */
export interface TrailStep extends SeenMessage {
  to: { queue: string; consumer: string }[];
  /** A command is not observed (see ObserverQueue); its reply names it as the cause. */
  inferred: boolean;
}

/**
 * The messages of the most recent orders, bounded on both axes: at most `maxOrders` orders
 * (the least recently seen is forgotten first) and `maxPerOrder` messages each. A flood
 * costs a fixed amount of memory; old orders simply lose their trail.
 */
export class Trails {
  private readonly orders = new Map<string, SeenMessage[]>();
  seenTotal = 0;

  constructor(
    private readonly maxOrders = 500,
    private readonly maxPerOrder = 40,
  ) {}

  record(message: SeenMessage): void {
    this.seenTotal += 1;
    const id = message.correlationId;
    const list = this.orders.get(id) ?? [];
    this.orders.delete(id);
    if (list.length < this.maxPerOrder) list.push(message);
    this.orders.set(id, list);
    while (this.orders.size > this.maxOrders) {
      const oldest = this.orders.keys().next().value;
      if (oldest === undefined) break;
      this.orders.delete(oldest);
    }
  }

  get size(): number {
    return this.orders.size;
  }

  /** The order's trail in time order, with the commands its replies reveal. */
  trailOf(orderId: string): TrailStep[] {
    const seen = this.orders.get(orderId) ?? [];
    const ids = new Set(seen.map((message) => message.messageId));
    const steps: TrailStep[] = seen.map((message) => ({
      ...message,
      to: destinationsOf(message.type),
      inferred: false,
    }));
    for (const reply of seen) {
      if (!reply.causationId || ids.has(reply.causationId)) continue;
      const command = Object.values(Messages).find(
        (definition) =>
          definition.kind === 'command' &&
          (definition.replies as readonly string[] | undefined)?.includes(reply.type),
      );
      if (!command || !isMessageType(command.type)) continue;
      ids.add(reply.causationId);
      steps.push({
        at: reply.at,
        type: command.type,
        from: command.senders[0] ?? 'order',
        exchange: command.exchange,
        routingKey: command.routingKey,
        messageId: reply.causationId,
        correlationId: orderId,
        to: destinationsOf(command.type),
        inferred: true,
      });
    }
    // An inferred command sorts just before the reply it caused.
    return steps.sort((a, b) => a.at - b.at || Number(b.inferred) - Number(a.inferred));
  }
}
