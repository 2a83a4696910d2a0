/** A JSON HTTP call for tests; returns status, headers and the parsed body. */
export async function request(
  url: string,
  init: {
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    rawBody?: string | Buffer;
  } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
): Promise<{ status: number; headers: Headers; body: any }> {
  const hasJson = init.body !== undefined;
  const response = await fetch(url, {
    method: init.method ?? (hasJson || init.rawBody !== undefined ? 'POST' : 'GET'),
    headers: { ...(hasJson ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: hasJson ? JSON.stringify(init.body) : init.rawBody,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  return { status: response.status, headers: response.headers, body };
}
