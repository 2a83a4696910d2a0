import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './databases';
import { freePort } from './ports';

export { freePort };
import { waitFor } from './wait';

/** A service started the way `make up` starts it: compiled JavaScript under node. */
export class ServiceProcess {
  /** The instance's name: the service's, or `<service>-<n>` when a system names instances. */
  readonly label: string;
  readonly logs: Record<string, unknown>[] = [];
  readonly output: string[] = [];
  private exit: Promise<number | null>;

  private constructor(
    readonly service: string,
    readonly port: number,
    private readonly child: ChildProcess,
    label?: string,
  ) {
    this.label = label ?? service;
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let buffered = '';
    const collect = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        this.output.push(line);
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line (for example a configuration error on stderr)
        }
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  static start(
    service: string,
    env: Record<string, string>,
    port: number,
    label?: string,
    /** Arguments for node itself, before the script (`--cpu-prof`, which NODE_OPTIONS refuses). */
    nodeArgs: string[] = [],
  ): ServiceProcess {
    const child = spawn(
      process.execPath,
      [...nodeArgs, path.join(REPO_ROOT, 'services', service, 'dist', 'main.js')],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          LOG_LEVEL: 'info',
          ...tripwireEnvironment(),
          ...env,
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new ServiceProcess(service, port, child, label);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True once the process has exited, however it ended. */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits until `/health/ready` answers 200; throws at once if the process exits first. */
  async waitUntilReady(timeoutMs = 30_000): Promise<void> {
    const outcome = await waitFor(
      `${this.service} to be ready`,
      async () => {
        if (this.exited) return 'exited';
        const response = await fetch(`${this.url}/health/ready`).catch(() => undefined);
        return response?.status === 200 ? 'ready' : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
    if (outcome === 'exited') {
      throw new Error(
        `${this.service} exited with ${this.child.exitCode ?? this.child.signalCode}:\n${this.output.slice(-20).join('\n')}`,
      );
    }
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exit;
  }

  /** SIGKILL: no chance to clean up, as in a crash. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exit;
  }
}

/** The tripwire of a run on containers (local-contacts.ts) goes into the services too. */
function tripwireEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['NODE_OPTIONS', 'TEST_TRIPWIRE_FILE', 'TEST_TRIPWIRE_PORTS']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}
