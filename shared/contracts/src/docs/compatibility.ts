import { Messages, type MessageDefinition } from '../catalog';
import { jsonSchemaOf, type JsonSchema } from './json-schema';

/** What a consumer relies on about one message type: where it comes from and its payload. */
export interface MessageContract {
  kind: string;
  exchange: string;
  routingKey: string;
  senders: string[];
  payload: JsonSchema;
}

/** Every message type's contract: the shape of docs/contracts-baseline/messages.json. */
export type ContractSnapshot = Record<string, MessageContract>;

/** A change that breaks a consumer or a producer already deployed. */
export interface BreakingChange {
  messageType: string;
  /** The payload field, `items[].sku` style; `(message)` for the message itself. */
  field: string;
  rule: BreakingRule;
  detail: string;
}

/**
 * The rules (docs/versioning.md). Senders and receivers of one message type are deployed
 * apart and messages wait in queues, so both sides validate with the version they were
 * built with: a change is safe only if every message valid before is valid after and
 * every message valid after is valid before, give or take optional fields, which old
 * receivers drop (zod strips unknown keys).
 */
export const BreakingRules = {
  'message-removed': 'a message type consumers may still receive is gone',
  'routing-changed': 'the exchange, routing key or kind changed: bound queues stop receiving it',
  'sender-added': 'receivers built before park messages from a sender they do not know',
  'field-removed': 'receivers built before still read the field (a rename is a removal)',
  'required-field-added': 'senders built before, and messages already queued, lack it',
  'field-became-required': 'senders built before, and messages already queued, may omit it',
  'field-became-optional': 'receivers built before still require it',
  'type-narrowed': 'values valid before are refused now',
  'type-widened': 'receivers built before refuse the new values',
  'constraint-narrowed': 'values valid before are refused now',
  'constraint-widened': 'receivers built before refuse the new values',
  'schema-changed': 'a change the checker cannot prove compatible',
} as const;
export type BreakingRule = keyof typeof BreakingRules;

/** The contract of every message type as the catalog defines it now. */
export function snapshotOf(
  messages: Record<string, MessageDefinition> = Messages,
): ContractSnapshot {
  return Object.fromEntries(
    Object.values(messages).map((message) => [
      message.type,
      {
        kind: message.kind,
        exchange: message.exchange,
        routingKey: message.routingKey,
        senders: [...message.senders],
        payload: jsonSchemaOf(message.schema, 'draft-7'),
      },
    ]),
  );
}

/**
 * The breaking changes from `baseline` to `current`. New message types and new optional
 * fields are additive; everything else that changes what is valid is listed.
 */
export function breakingChanges(
  baseline: ContractSnapshot,
  current: ContractSnapshot,
): BreakingChange[] {
  const changes: BreakingChange[] = [];
  for (const [type, before] of Object.entries(baseline)) {
    const after = current[type];
    const report = (field: string, rule: BreakingRule, detail: string) =>
      changes.push({ messageType: type, field, rule, detail });
    if (!after) {
      report('(message)', 'message-removed', `${type} is no longer in the catalog`);
      continue;
    }
    for (const key of ['kind', 'exchange', 'routingKey'] as const) {
      if (before[key] !== after[key]) {
        report('(message)', 'routing-changed', `${key} ${before[key]} -> ${after[key]}`);
      }
    }
    for (const sender of after.senders.filter((s) => !before.senders.includes(s))) {
      report('(message)', 'sender-added', `${sender} may now send ${type}`);
    }
    compareSchemas(before.payload, after.payload, '', report);
  }
  return changes;
}

/** One line per breaking change: message type, field, rule and why it breaks. */
export function describeBreakingChange(change: BreakingChange): string {
  return (
    `${change.messageType} ${change.field}: ${change.rule} (${change.detail}); ` +
    `${BreakingRules[change.rule]}`
  );
}

type Report = (field: string, rule: BreakingRule, detail: string) => void;

const IGNORED = new Set(['description', 'title', 'examples', 'default', '$comment']);
const HANDLED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
]);

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems'] as const;

const typesOf = (schema: JsonSchema): string[] | undefined =>
  schema.type === undefined
    ? undefined
    : (Array.isArray(schema.type) ? schema.type : [schema.type]).map(String);

/** Whether every value of type `inner` is a value of type `outer` (integer is a number). */
const covers = (outer: string[], inner: string): boolean =>
  outer.includes(inner) || (inner === 'integer' && outer.includes('number'));

function compareSchemas(before: JsonSchema, after: JsonSchema, path: string, report: Report): void {
  const field = path || '(payload)';
  const typesBefore = typesOf(before);
  const typesAfter = typesOf(after);
  if (typesBefore && typesAfter) {
    const lost = typesBefore.filter((t) => !covers(typesAfter, t));
    const gained = typesAfter.filter((t) => !covers(typesBefore, t));
    if (lost.length > 0) {
      report(field, 'type-narrowed', `type ${typesBefore.join('|')} -> ${typesAfter.join('|')}`);
      return;
    }
    if (gained.length > 0) {
      report(field, 'type-widened', `type ${typesBefore.join('|')} -> ${typesAfter.join('|')}`);
      return;
    }
  } else if (typesBefore && !typesAfter) {
    report(field, 'type-widened', `type ${typesBefore.join('|')} -> any`);
  } else if (!typesBefore && typesAfter) {
    report(field, 'type-narrowed', `type any -> ${typesAfter.join('|')}`);
  }

  compareBounds(before, after, field, report);
  compareValues(before, after, field, report);

  const propsBefore = (before.properties ?? {}) as Record<string, JsonSchema>;
  const propsAfter = (after.properties ?? {}) as Record<string, JsonSchema>;
  const requiredBefore = new Set((before.required ?? []) as string[]);
  const requiredAfter = new Set((after.required ?? []) as string[]);
  const child = (name: string) => (path ? `${path}.${name}` : name);
  for (const [name, schema] of Object.entries(propsBefore)) {
    if (!(name in propsAfter)) {
      report(
        child(name),
        'field-removed',
        `${requiredBefore.has(name) ? 'required' : 'optional'} field removed`,
      );
      continue;
    }
    if (!requiredBefore.has(name) && requiredAfter.has(name)) {
      report(child(name), 'field-became-required', 'optional -> required');
    }
    if (requiredBefore.has(name) && !requiredAfter.has(name)) {
      report(child(name), 'field-became-optional', 'required -> optional');
    }
    compareSchemas(schema, propsAfter[name]!, child(name), report);
  }
  for (const name of Object.keys(propsAfter)) {
    if (!(name in propsBefore) && requiredAfter.has(name)) {
      report(child(name), 'required-field-added', 'new field is required');
    }
  }
  if (before.additionalProperties !== false && after.additionalProperties === false) {
    report(field, 'constraint-narrowed', 'extra fields are refused now');
  }
  if (before.items && after.items) {
    compareSchemas(before.items as JsonSchema, after.items as JsonSchema, `${path}[]`, report);
  }

  const rest = (schema: JsonSchema) =>
    JSON.stringify(
      Object.fromEntries(
        Object.entries(schema)
          .filter(([key]) => !IGNORED.has(key) && !HANDLED.has(key))
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
    );
  if (rest(before) !== rest(after)) {
    report(field, 'schema-changed', `${rest(before)} -> ${rest(after)}`);
  }
}

function compareBounds(before: JsonSchema, after: JsonSchema, field: string, report: Report): void {
  for (const key of LOWER_BOUNDS) {
    const [b, a] = [before[key] as number | undefined, after[key] as number | undefined];
    if (b === a) continue;
    const narrowed = b === undefined || (a !== undefined && a > b);
    report(
      field,
      narrowed ? 'constraint-narrowed' : 'constraint-widened',
      `${key} ${b ?? 'none'} -> ${a ?? 'none'}`,
    );
  }
  for (const key of UPPER_BOUNDS) {
    const [b, a] = [before[key] as number | undefined, after[key] as number | undefined];
    if (b === a) continue;
    const narrowed = b === undefined || (a !== undefined && a < b);
    report(
      field,
      narrowed ? 'constraint-narrowed' : 'constraint-widened',
      `${key} ${b ?? 'none'} -> ${a ?? 'none'}`,
    );
  }
}

function compareValues(before: JsonSchema, after: JsonSchema, field: string, report: Report): void {
  const enumBefore = before.enum as unknown[] | undefined;
  const enumAfter = after.enum as unknown[] | undefined;
  if (enumBefore || enumAfter) {
    const removed =
      enumBefore && (!enumAfter ? [] : enumBefore.filter((v) => !enumAfter.includes(v)));
    const added =
      enumAfter && (!enumBefore ? enumAfter : enumAfter.filter((v) => !enumBefore.includes(v)));
    if (!enumBefore || (removed && removed.length > 0)) {
      report(
        field,
        'constraint-narrowed',
        `enum values removed: ${JSON.stringify(removed ?? enumAfter)}`,
      );
    } else if (!enumAfter || (added && added.length > 0)) {
      report(field, 'constraint-widened', `enum values added: ${JSON.stringify(added ?? 'any')}`);
    }
  }
  for (const key of ['const', 'pattern', 'format'] as const) {
    const [b, a] = [before[key], after[key]];
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    const rule: BreakingRule =
      b === undefined
        ? 'constraint-narrowed'
        : a === undefined
          ? 'constraint-widened'
          : 'constraint-narrowed';
    report(field, rule, `${key} ${JSON.stringify(b) ?? 'none'} -> ${JSON.stringify(a) ?? 'none'}`);
  }
}
