import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { REPO_ROOT, currentInfrastructure, uniqueTestName } from '@app/testing';

interface Run {
  code: number | null;
  output: string;
}

/** Runs the built demo as `make demo` does, against the test servers, with test names. */
function runDemo(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'demo/dist/main.js'), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('make demo, end to end against the real services', () => {
  const infrastructure = currentInfrastructure();
  const name = uniqueTestName('demo');
  let reports: string;
  let run: Run;

  beforeAll(async () => {
    reports = await mkdtemp(path.join(os.tmpdir(), 'demo-report-'));
    run = await runDemo(['two-styles', 'payment', 'guaranteed-delivery'], {
      DEMO_RABBITMQ_URL: infrastructure.rabbitmqUrl,
      ...(infrastructure.rabbitmqManagementUrl
        ? { DEMO_RABBITMQ_MANAGEMENT_URL: infrastructure.rabbitmqManagementUrl }
        : {}),
      DEMO_POSTGRES_URL: infrastructure.postgresUrl,
      DEMO_NAME: name,
      DEMO_CLEANUP: 'true',
      DEMO_REPORT_DIR: reports,
      DEMO_DELIVERY_ORDERS: '30',
      DEMO_PROGRESS: 'lines',
    });
  }, 180_000);

  afterAll(async () => {
    await rm(reports, { recursive: true, force: true });
  });

  test('when the two-styles, payment and guaranteed-delivery scenarios run, then all pass and the run exits 0', () => {
    expect({ code: run.code, tail: run.output.split('\n').slice(-25) }).toEqual({
      code: 0,
      tail: expect.arrayContaining([expect.stringMatching(/^ALL PASSED: 3 of 3 scenarios passed/)]),
    });
    expect(run.output).toMatch(/^PASS {2}Two styles: /m);
    expect(run.output).toMatch(/^PASS {2}Payment: compensation needed: event yes, command no/m);
    expect(run.output).toMatch(/^PASS {2}Guaranteed delivery: /m);
  });

  test('when payment runs, then the declined event-style order was compensated and the declined command-style one never invoiced', () => {
    expect(run.output).toMatch(/order +-> order\.events \[order\.cancelled\] +OrderCancelled/);
    expect(run.output).toMatch(
      /event +tok_declined +\S+ +CANCELLED \(card_declined\) +DECLINED \(card_declined\) +VOIDED +CANCELLED/,
    );
    expect(run.output).toMatch(
      /command +tok_declined +\S+ +CANCELLED \(card_declined\) .* none +none/,
    );
    expect(run.output).toMatch(/^ {2}event style needed compensation/m);
    expect(run.output).toMatch(/^ {2}command style needed no compensation/m);
  });

  test('when two styles run, then each trail is printed by correlation id, and Statistics counted only the event', () => {
    expect(run.output).toMatch(/order +-> order\.events \[order\.new\] +NewOrder/);
    expect(run.output).toMatch(/handled from statistics\.new-order by statistics/);
    expect(run.output).toMatch(/order +-> invoicing\.commands \[CreateInvoice\] +CreateInvoice/);
    expect(run.output).toMatch(/GET \/statistics: orders 1 \(was 0\)/);
  });

  test('when the run ends, then the report folder holds the summary, the results and a real PNG chart', async () => {
    const [folder] = await readdir(reports);
    const report = path.join(reports, folder ?? '');
    const files = await readdir(report);
    expect(files).toEqual(
      expect.arrayContaining([
        'summary.md',
        'results.json',
        'guaranteed-delivery-queue-depth.png',
        'guaranteed-delivery-queue-depth.svg',
        'logs',
      ]),
    );
    const png = await readFile(path.join(report, 'guaranteed-delivery-queue-depth.png'));
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    const results = JSON.parse(await readFile(path.join(report, 'results.json'), 'utf8'));
    const delivery = results.results.find((r: { id: string }) => r.id === 'guaranteed-delivery');
    expect(delivery.checks.map((c: { passed: boolean }) => c.passed)).toEqual([true, true, true]);
    expect(await readFile(path.join(report, 'summary.md'), 'utf8')).toContain(
      '![guaranteed-delivery-queue-depth.png](guaranteed-delivery-queue-depth.png)',
    );
  });

  test('when the run ends with cleanup, then its databases are gone', async () => {
    const client = new Client({ connectionString: infrastructure.postgresUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `${name}%`,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
