import type { JsonSchema } from './json-schema';

const escape = (text: unknown): string =>
  String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

interface Row {
  field: string;
  type: string;
  required: boolean;
  rules: string;
  description: string;
}

const CONSTRAINTS = [
  'format',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'const',
  'enum',
] as const;

/** A payload or header schema flattened into one row per field (`items[].sku`). */
function rowsOf(schema: JsonSchema, path = '', required = true): Row[] {
  const rows: Row[] = [];
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : String(schema.type ?? 'any');
  if (path) {
    rows.push({
      field: path,
      type,
      required,
      rules: CONSTRAINTS.filter((key) => schema[key] !== undefined)
        .map((key) =>
          key === 'pattern' && String(schema[key]).length > 40
            ? 'pattern (see the YAML)'
            : `${key} ${JSON.stringify(schema[key])}`,
        )
        .join(', '),
      description: String(schema.description ?? ''),
    });
  }
  const requiredFields = new Set((schema.required ?? []) as string[]);
  for (const [name, child] of Object.entries(
    (schema.properties ?? {}) as Record<string, JsonSchema>,
  )) {
    rows.push(...rowsOf(child, path ? `${path}.${name}` : name, requiredFields.has(name)));
  }
  if (schema.items) rows.push(...rowsOf(schema.items as JsonSchema, `${path}[]`, true));
  return rows;
}

const table = (schema: JsonSchema): string =>
  `<table><thead><tr><th>field</th><th>type</th><th>required</th><th>rules</th><th>about</th></tr></thead><tbody>${rowsOf(
    schema,
  )
    .map(
      (row) =>
        `<tr><td><code>${escape(row.field)}</code></td><td>${escape(row.type)}</td><td>${row.required ? 'yes' : 'optional'}</td><td>${escape(row.rules)}</td><td>${escape(row.description)}</td></tr>`,
    )
    .join('')}</tbody></table>`;

type Doc = {
  info: { title: string; version: string; description: string };
  channels: Record<string, Record<string, unknown>>;
  components: { messages: Record<string, Record<string, unknown>> };
};

/**
 * docs/asyncapi.html: the AsyncAPI document as a page for people, with no script and no
 * asset from elsewhere (each service serves it at /docs/asyncapi).
 */
export function renderAsyncApiHtml(document: Record<string, unknown>): string {
  const doc = document as unknown as Doc;
  const channels = Object.values(doc.channels);
  const exchanges = channels.filter((c) => 'x-owner' in c);
  const queues = channels.filter((c) => 'x-consumer' in c);
  const messages = Object.values(doc.components.messages);
  const link = (type: string) => `<a href="#${escape(type)}">${escape(type)}</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f3f3f3}code,pre{font-family:ui-monospace,monospace}pre{background:#f6f8fa;padding:.75rem;overflow:auto;font-size:.85rem}
section{border-top:2px solid #ddd;margin-top:2rem}.kind{font-size:.8rem;background:#e8eefc;padding:.1rem .4rem;border-radius:.3rem}
</style></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>${escape(doc.info.description)}</p>
<p>AsyncAPI 3.0 source: <a href="asyncapi.yaml">asyncapi.yaml</a>.</p>
<h2>Exchanges</h2>
<table><thead><tr><th>exchange</th><th>type</th><th>owner</th><th>messages</th></tr></thead><tbody>
${exchanges
  .map((c) => {
    const amqp = (c.bindings as { amqp: { exchange: { type: string } } }).amqp;
    return `<tr><td><code>${escape(c.address)}</code></td><td>${escape(amqp.exchange.type)}</td><td>${escape(c['x-owner'])}</td><td>${Object.keys(
      c.messages as object,
    )
      .map(link)
      .join(', ')}</td></tr>`;
  })
  .join('\n')}
</tbody></table>
<h2>Queues</h2>
<table><thead><tr><th>queue</th><th>consumer</th><th>bound to</th><th>messages</th><th>retry, then dead letters</th></tr></thead><tbody>
${queues
  .map((c) => {
    const bindings = c['x-bindings'] as { exchange: string; routingKey: string }[];
    return `<tr><td><code>${escape(c.address)}</code></td><td>${escape(c['x-consumer'])}</td><td>${bindings.map((b) => `<code>${escape(b.exchange)}</code> / <code>${escape(b.routingKey)}</code>`).join('<br>')}</td><td>${Object.keys(
      c.messages as object,
    )
      .map(link)
      .join(
        ', ',
      )}</td><td>${(c['x-retry-queues'] as string[]).map((q) => `<code>${escape(q)}</code>`).join('<br>')}<br><code>${escape(c['x-dead-letter-queue'])}</code></td></tr>`;
  })
  .join('\n')}
</tbody></table>
<h2>Messages</h2>
${messages
  .map((m) => {
    const consumers = m['x-consumers'] as { service: string; queue: string }[];
    const replies = m['x-replies'] as string[] | undefined;
    return `<section id="${escape(m.name)}"><h3>${escape(m.name)} <span class="kind">${escape(m['x-kind'])}</span></h3>
<p>${escape(m.summary)}</p>
<p>Sent by <b>${escape((m['x-senders'] as string[]).join(', '))}</b> to <code>${escape(m['x-exchange'])}</code> with routing key <code>${escape(m['x-routing-key'])}</code>.
Received by ${consumers.map((c) => `<b>${escape(c.service)}</b> from <code>${escape(c.queue)}</code>`).join(', ') || 'nobody yet'}.${replies ? ` Answered with ${replies.map(link).join(' or ')}.` : ''}</p>
<h4>Payload</h4>${table(m.payload as JsonSchema)}
<h4>Envelope (properties and headers)</h4>${table(m.headers as JsonSchema)}
<h4>Example</h4><pre>${escape(JSON.stringify((m.examples as unknown[])[0], null, 2))}</pre></section>`;
  })
  .join('\n')}
</body></html>
`;
}
