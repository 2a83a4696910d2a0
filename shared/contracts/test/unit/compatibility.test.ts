import { z } from 'zod';
import { Messages, NewOrderSchema, type MessageDefinition } from '../../src';
import {
  breakingChanges,
  describeBreakingChange,
  snapshotOf,
  type BreakingChange,
} from '../../src/docs';

const baseline = snapshotOf();

/** The catalog with NewOrder's schema (or more) replaced. */
function catalogWith(
  newOrder: z.ZodType,
  extra: Record<string, MessageDefinition> = {},
): Record<string, MessageDefinition> {
  return { ...Messages, NewOrder: { ...Messages.NewOrder, schema: newOrder }, ...extra };
}

const changesTo = (catalog: Record<string, MessageDefinition>): BreakingChange[] =>
  breakingChanges(baseline, snapshotOf(catalog));

const summary = (changes: BreakingChange[]) =>
  changes.map(({ messageType, field, rule }) => ({ messageType, field, rule }));

describe('breaking-change check of message payloads against the baseline', () => {
  it('when nothing changed, then nothing is reported', () => {
    expect(breakingChanges(baseline, snapshotOf())).toEqual([]);
  });

  it('when a field is removed, then it reports field-removed for that message and field', () => {
    const changes = changesTo(catalogWith(NewOrderSchema.omit({ placedAt: true })));

    expect(summary(changes)).toEqual([
      { messageType: 'NewOrder', field: 'placedAt', rule: 'field-removed' },
    ]);
    expect(describeBreakingChange(changes[0]!)).toMatch(
      /^NewOrder placedAt: field-removed \(required field removed\); receivers built before/,
    );
  });

  it('when a field is renamed, then the old name is removed and the new one is a required addition', () => {
    const renamed = NewOrderSchema.omit({ totalCents: true }).extend({ amountCents: z.int() });

    expect(summary(changesTo(catalogWith(renamed)))).toEqual([
      { messageType: 'NewOrder', field: 'totalCents', rule: 'field-removed' },
      { messageType: 'NewOrder', field: 'amountCents', rule: 'required-field-added' },
    ]);
  });

  it('when a nested field is removed, then the field is named by its path', () => {
    const items = z
      .array(
        z.object({
          quantity: z.int().min(1).max(10_000),
          unitPriceCents: z.int().min(0).max(2_147_483_647),
        }),
      )
      .min(1);

    expect(summary(changesTo(catalogWith(NewOrderSchema.extend({ items }))))).toEqual([
      { messageType: 'NewOrder', field: 'items[].sku', rule: 'field-removed' },
    ]);
  });

  it('when a type is narrowed, then it reports type-narrowed or constraint-narrowed', () => {
    const toString = NewOrderSchema.extend({ totalCents: z.string() });
    const smallerMax = NewOrderSchema.extend({ totalCents: z.int().min(0).max(100_000) });
    const uuidCustomer = NewOrderSchema.extend({ customerId: z.uuid() });

    expect(summary(changesTo(catalogWith(toString)))).toEqual([
      { messageType: 'NewOrder', field: 'totalCents', rule: 'type-narrowed' },
    ]);
    expect(summary(changesTo(catalogWith(smallerMax)))).toEqual([
      { messageType: 'NewOrder', field: 'totalCents', rule: 'constraint-narrowed' },
    ]);
    expect(summary(changesTo(catalogWith(uuidCustomer))).map((c) => c.rule)).toContain(
      'constraint-narrowed',
    );
  });

  it('when an optional field becomes required, then it reports field-became-required', () => {
    const paymentRequired = NewOrderSchema.extend({
      payment: NewOrderSchema.shape.payment.unwrap(),
    });

    expect(summary(changesTo(catalogWith(paymentRequired)))).toEqual([
      { messageType: 'NewOrder', field: 'payment', rule: 'field-became-required' },
    ]);
  });

  it('when a message type disappears or moves, then it reports message-removed or routing-changed', () => {
    const { ShipmentPrepared: _removed, ...withoutShipmentPrepared } = Messages;
    const moved = { ...Messages, NewOrder: { ...Messages.NewOrder, routingKey: 'order.placed' } };

    expect(summary(breakingChanges(baseline, snapshotOf(withoutShipmentPrepared)))).toEqual([
      { messageType: 'ShipmentPrepared', field: '(message)', rule: 'message-removed' },
    ]);
    expect(summary(changesTo(moved))).toEqual([
      { messageType: 'NewOrder', field: '(message)', rule: 'routing-changed' },
    ]);
  });

  it('when an optional field or a new message type is added, then nothing is reported (additive)', () => {
    const withDiscount = NewOrderSchema.extend({
      discount: z.object({ code: z.string(), amountCents: z.int().min(0) }).optional(),
    });
    const newVersion: MessageDefinition = {
      ...Messages.NewOrder,
      type: 'NewOrderV2',
      schema: withDiscount.required({ discount: true }),
      routingKey: 'order.new.v2',
    };

    expect(changesTo(catalogWith(withDiscount, { NewOrderV2: newVersion }))).toEqual([]);
  });

  it('when a constraint is widened, then it is reported too: receivers built before refuse the new values', () => {
    const emptyCustomerAllowed = NewOrderSchema.extend({ customerId: z.string().min(0) });

    expect(summary(changesTo(catalogWith(emptyCustomerAllowed)))).toEqual([
      { messageType: 'NewOrder', field: 'customerId', rule: 'constraint-widened' },
    ]);
  });
});
