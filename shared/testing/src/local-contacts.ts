/**
 * The tripwire, loaded with `node --require dist/tripwire.js` into every process of a run on containers (the jest workers,
 * the services they start, the set-up): records each attempt to reach the machine's own
 * RabbitMQ or Postgres, a TCP connection to a loopback or local address on one of their
 * ports, or a run of their administration tools (`rabbitmqctl`, `psql`, ...), as a line in
 * TEST_TRIPWIRE_FILE. It records and lets the attempt go on: a test and the run's end read
 * the file (`localContacts`), so the proof covers the whole run, short connections included.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';

/** RabbitMQ (AMQP, management, distribution, epmd) and Postgres. */
export const DEFAULT_TRIPWIRE_PORTS = [5672, 15672, 25672, 4369, 5432];
const ADMIN_TOOLS = new Set([
  'rabbitmqctl',
  'rabbitmq-diagnostics',
  'rabbitmq-plugins',
  'rabbitmq-server',
  'psql',
  'pg_ctl',
  'pg_ctlcluster',
  'createdb',
  'dropdb',
]);

/** One recorded attempt. */
export interface LocalContact {
  pid: number;
  /** The script the process runs (a jest worker, a service's main.js). */
  process: string;
  what: 'connect' | 'exec';
  /** `host:port` or the command line. */
  target: string;
  /** Where in the code it came from (the first frames outside node's own modules). */
  stack: string[];
}

/** The contacts recorded in `file` so far (none when it does not exist). */
export function localContacts(file: string): LocalContact[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LocalContact);
}

function localAddresses(): Set<string> {
  const addresses = new Set(['localhost', '0.0.0.0', '::', '::1', '', hostname()]);
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) addresses.add(entry.address);
  }
  return addresses;
}

function isLocal(host: string, addresses: Set<string>): boolean {
  return host.startsWith('127.') || host.startsWith('::ffff:127.') || addresses.has(host);
}

function record(file: string, what: LocalContact['what'], target: string): void {
  const stack = (new Error().stack ?? '')
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => !line.includes('node:') && !line.includes('local-contacts'))
    .slice(0, 6);
  const contact: LocalContact = {
    pid: process.pid,
    process: path.relative(process.cwd(), process.argv[1] ?? '') || process.argv0,
    what,
    target,
    stack,
  };
  try {
    appendFileSync(file, `${JSON.stringify(contact)}\n`);
  } catch {
    // The record is best effort; the connection itself is never held up by it.
  }
}

/** Where `socket.connect(...)` is going, from any of its call forms. */
function targetOf(args: unknown[]): { host: string; port: number } | undefined {
  let first = args[0];
  // net.connect() hands the socket its normalized arguments as one array.
  if (Array.isArray(first)) first = first[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
  }
  if (first && typeof first === 'object') {
    const options = first as { port?: unknown; host?: unknown; path?: unknown };
    if (options.path !== undefined || options.port === undefined) return undefined;
    return {
      port: Number(options.port),
      host: typeof options.host === 'string' ? options.host : 'localhost',
    };
  }
  return undefined;
}

/** Installs the tripwire in this process when TEST_TRIPWIRE_FILE is set (once). */
export function armTripwire(): void {
  const file = process.env.TEST_TRIPWIRE_FILE;
  const marker = Symbol.for('amr.test.tripwire');
  const globals = globalThis as Record<symbol, unknown>;
  if (!file || globals[marker]) return;
  globals[marker] = true;
  const ports = new Set(
    (process.env.TEST_TRIPWIRE_PORTS ?? DEFAULT_TRIPWIRE_PORTS.join(','))
      .split(',')
      .map((p) => Number(p.trim()))
      .filter((p) => Number.isInteger(p) && p > 0),
  );
  const addresses = localAddresses();

  const connect = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const target = targetOf(args);
    if (target && ports.has(target.port) && isLocal(target.host, addresses)) {
      record(file, 'connect', `${target.host}:${target.port}`);
    }
    return connect.apply(this, args);
  } as typeof net.Socket.prototype.connect;

  const prototype = ChildProcess.prototype as unknown as {
    spawn: (options: { file?: string; args?: string[] }) => unknown;
  };
  const spawn = prototype.spawn;
  prototype.spawn = function (this: ChildProcess, options) {
    const command = path.basename(options?.file ?? '');
    if (ADMIN_TOOLS.has(command)) record(file, 'exec', (options.args ?? [command]).join(' '));
    return spawn.call(this, options);
  };
}
