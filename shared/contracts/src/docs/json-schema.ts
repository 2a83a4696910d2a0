import { z } from 'zod';

/** A JSON Schema as plain data. */
export type JsonSchema = { [key: string]: unknown };

/**
 * A zod schema as JSON Schema, the way a receiver parses: the input side (defaults make a
 * field optional, extra fields are allowed: receivers tolerate them). Draft 7 for AsyncAPI's
 * schema format, draft 2020-12 for OpenAPI 3.1.
 */
export function jsonSchemaOf(
  schema: z.ZodType,
  target: 'draft-7' | 'draft-2020-12' = 'draft-2020-12',
): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    target,
    unrepresentable: 'any',
  }) as JsonSchema;
  delete json.$schema;
  return json;
}
