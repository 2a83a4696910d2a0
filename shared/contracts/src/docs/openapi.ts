import type { z } from 'zod';
import { ServiceNames, type ServiceName } from '../catalog';
import {
  HttpApis,
  InvoiceResourceSchema,
  OrderPageSchema,
  OrderResourceSchema,
  PaymentResourceSchema,
  PlaceOrderRequestSchema,
  ProblemSchema,
  ShipmentResourceSchema,
  StatisticsResourceSchema,
  type HttpOperation,
  type HttpResponse,
} from '../http';
import { jsonSchemaOf, type JsonSchema } from './json-schema';

/** Schemas shown once under components.schemas and referred to by name. */
const NamedSchemas = new Map<z.ZodType, string>([
  [PlaceOrderRequestSchema, 'PlaceOrderRequest'],
  [OrderResourceSchema, 'Order'],
  [OrderPageSchema, 'OrderPage'],
  [InvoiceResourceSchema, 'Invoice'],
  [ShipmentResourceSchema, 'Shipment'],
  [PaymentResourceSchema, 'Payment'],
  [StatisticsResourceSchema, 'Statistics'],
  [ProblemSchema, 'Problem'],
]);

const PROBLEM_JSON = 'application/problem+json';
const serverOf = (service: ServiceName) => ({
  url: `http://localhost:${HttpApis[service].port}`,
  description: service,
});

function schemaRef(schema: z.ZodType): JsonSchema {
  const name = NamedSchemas.get(schema);
  if (name) return { $ref: `#/components/schemas/${name}` };
  const def = (schema as { def?: { type?: string; element?: z.ZodType } }).def;
  if (def?.type === 'array' && def.element && NamedSchemas.has(def.element)) {
    return { type: 'array', items: schemaRef(def.element) };
  }
  return jsonSchemaOf(schema);
}

const problemContent = { [PROBLEM_JSON]: { schema: { $ref: '#/components/schemas/Problem' } } };

function responseOf(response: HttpResponse): Record<string, unknown> {
  return {
    description: response.description,
    ...(response.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(response.headers).map(([name, example]) => [
              name,
              { schema: { type: 'string' }, example },
            ]),
          ),
        }
      : {}),
    ...(response.problem
      ? { content: problemContent }
      : response.schema
        ? { content: { 'application/json': { schema: schemaRef(response.schema) } } }
        : {}),
  };
}

function operationOf(service: ServiceName, operation: HttpOperation): Record<string, unknown> {
  const parameters: unknown[] = [];
  for (const [name, schema] of Object.entries(operation.pathParams ?? {})) {
    parameters.push({ name, in: 'path', required: true, schema: jsonSchemaOf(schema) });
  }
  if (operation.query) {
    const query = jsonSchemaOf(operation.query);
    const required = (query.required as string[] | undefined) ?? [];
    for (const [name, schema] of Object.entries(query.properties as Record<string, unknown>)) {
      parameters.push({ name, in: 'query', required: required.includes(name), schema });
    }
  }
  for (const [name, header] of Object.entries(operation.headers ?? {})) {
    parameters.push({
      name,
      in: 'header',
      required: !header.schema.safeParse(undefined).success,
      description: header.description,
      schema: jsonSchemaOf(header.schema),
    });
  }
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    tags: [service],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaRef(operation.body) } },
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(operation.responses).map(([status, response]) => [
          status,
          responseOf(response),
        ]),
      ),
      default: {
        description:
          'Unexpected error (500, logged, never a stack trace) or 503 when the database is down',
        content: problemContent,
      },
    },
  };
}

const commonPaths = (): Record<string, unknown> => {
  const servers = ServiceNames.map(serverOf);
  const plain = (summary: string, contentType: string, description: string) => ({
    servers,
    get: {
      operationId: summary
        .replace(/\W+(\w)/g, (_m, c: string) => c.toUpperCase())
        .replace(/\W/g, ''),
      summary,
      tags: ['every service'],
      responses: {
        200: { description, content: { [contentType]: { schema: { type: 'string' } } } },
      },
    },
  });
  return {
    '/health/live': {
      servers,
      get: {
        operationId: 'live',
        summary: 'Liveness: 200 while the process runs',
        tags: ['every service'],
        responses: {
          200: {
            description: 'Up',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { status: { const: 'up' } } },
              },
            },
          },
        },
      },
    },
    '/health/ready': {
      servers,
      get: {
        operationId: 'ready',
        summary: 'Readiness: 200 only when the database and the broker are up',
        tags: ['every service'],
        responses: {
          200: {
            description: 'Ready',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } },
          },
          503: {
            description: 'Not ready: names what is down',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } },
          },
        },
      },
    },
    '/metrics': plain('Prometheus metrics', 'text/plain', 'Prometheus text format'),
    '/docs': plain('These documents, rendered', 'text/html', 'An HTML page linking the viewers'),
  };
};

/** docs/openapi.json (OpenAPI 3.1): every service's HTTP API from the HTTP contract. */
export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const service of ServiceNames) {
    for (const operation of HttpApis[service].operations) {
      const item = (paths[operation.path] ??= { servers: [serverOf(service)] });
      item[operation.method] = operationOf(service, operation);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Async messaging reference: HTTP APIs',
      version,
      description:
        'The HTTP API of each service (DESIGN.md sections 3 and 4a), generated by ' +
        '`npm run contracts:generate` from shared/contracts/src/http.ts. Do not edit by hand. ' +
        'Each path names the service (and port) that answers it; errors are ' +
        'application/problem+json (RFC 9457).',
    },
    servers: ServiceNames.map(serverOf),
    tags: [
      ...ServiceNames.map((service) => ({
        name: service,
        description: `${HttpApis[service].description} Port ${HttpApis[service].port}.`,
      })),
      { name: 'every service', description: 'Health, metrics and docs, on each service’s port.' },
    ],
    paths: { ...paths, ...commonPaths() },
    components: {
      schemas: {
        ...Object.fromEntries(
          [...NamedSchemas].map(([schema, name]) => [name, jsonSchemaOf(schema)]),
        ),
        Readiness: {
          type: 'object',
          required: ['status', 'checks'],
          properties: {
            status: { enum: ['ready', 'not ready'] },
            checks: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: '`up` or `down: <problem>` per dependency',
            },
          },
        },
      },
    },
  };
}
