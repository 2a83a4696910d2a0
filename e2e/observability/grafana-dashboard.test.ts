import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ServiceNames } from '@app/contracts';
import {
  REPO_ROOT,
  anOrderRequest,
  request,
  startDashboard,
  startSystem,
  waitFor,
  type RunningSystem,
} from '@app/testing';

const OBSERVABILITY = path.join(REPO_ROOT, 'infra', 'observability');
const DASHBOARD = path.join(OBSERVABILITY, 'grafana', 'dashboards', 'async-messaging.json');

interface GrafanaDashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

/** The metric names a PromQL expression reads: what is left after labels, ranges and functions. */
function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const keywords = new Set(['by', 'without', 'offset', 'bool', 'and', 'or', 'unless']);
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter((match) => !match[2] && !keywords.has(match[1] ?? ''))
    .map((match) => match[1] ?? '');
}

/** Every series name a /metrics text exports, histograms expanded to _bucket, _sum, _count. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

describe('the observability profile reads what the services export', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({ label: 'grafana', leastPrivilege: true });
    await startDashboard(system);
    // One order through, so every labelled series (its end-to-end latency too) has a sample.
    const placed = await request(`${system.url('order')}/orders`, { body: anOrderRequest() });
    await waitFor('the order to complete', async () => {
      const order = await request(`${system.url('order')}/orders/${placed.body.id}`);
      return order.body.status === 'COMPLETED';
    });
  }, 90_000);

  afterAll(async () => {
    await system?.teardown();
  });

  test('when the Grafana dashboard is read, then every metric its queries name is exported by some service', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as GrafanaDashboard;
    const exported = new Set<string>();
    for (const service of ServiceNames) {
      const metrics = await fetch(`${system.url(service)}/metrics`).then((r) => r.text());
      for (const name of exportedNames(metrics)) exported.add(name);
    }

    const queried = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((target) =>
        metricNamesOf(target.expr).map((name) => ({ panel: panel.title, name })),
      ),
    );

    expect(queried.length).toBeGreaterThanOrEqual(dashboard.panels.length);
    expect(queried.filter(({ name }) => !exported.has(name))).toEqual([]);
  });

  test('when the end-to-end latency is scraped after an order, then it has a sample for COMPLETED', async () => {
    const metrics = await fetch(`${system.url('order')}/metrics`).then((r) => r.text());

    expect(metrics).toMatch(/orders_finished_seconds_count\{status="COMPLETED",style="event"\} 1/);
  });

  test('when the Prometheus configuration is read, then it scrapes every service, the dashboard and RabbitMQ', () => {
    const config = parse(readFileSync(path.join(OBSERVABILITY, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs.flatMap((job) =>
      job.static_configs.flatMap((group) => group.targets),
    );

    for (const service of [...ServiceNames, 'dashboard']) {
      expect(targets.some((target) => target.startsWith(`${service}:`))).toBe(true);
    }
    expect(targets).toContain('rabbitmq:15692');
  });

  test('when a query names a metric nobody exports, then the check finds it', () => {
    expect(metricNamesOf('sum by (queue) (rate(messages_consumd_total{x="a"}[1m]))')).toEqual([
      'messages_consumd_total',
    ]);
  });
});
