import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { proposeSplit } from '../cluster/propose.js';
import { DEFAULT_SETTINGS, type Plan } from '../model/plan.js';
import { buildPlan } from '../plan/build-plan.js';
import { fixturePath, repoRoot } from '../test-support/temp-project.js';
import { ALERT_NAMES, renderObservability } from './deploy-observability.js';
import { isGenerated } from './render-templates.js';
import { checkKubernetesSd, promtool, withoutKubernetesSd } from '../test-support/deploy-validators.js';

// Validators that run here for real (see shared VALIDATORS.md); each is first shown rejecting a broken file.
// promtool comes from Debian's `prometheus` package (.ci/run installs it).
const require = createRequire(import.meta.url);

let plan: Plan;
let dir: string;

beforeAll(async () => {
  const analysis = await analyze({ dir: fixturePath('shop-ts') });
  plan = buildPlan(analysis, { settings: DEFAULT_SETTINGS, ...proposeSplit(analysis, DEFAULT_SETTINGS) }, {}).plan;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-observability-'));
  for (const change of renderObservability(plan)) write(path.join(dir, change.path), change.content);
});

function write(file: string, content: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

function read(relative: string): string {
  return fs.readFileSync(path.join(dir, relative), 'utf8');
}


/** A scratch folder for deliberately broken copies. */
function scratch(files: Record<string, string>): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-observability-broken-'));
  for (const [name, content] of Object.entries(files)) write(path.join(folder, name), content);
  return folder;
}

/** The `__meta_kubernetes_*` labels each role provides (Prometheus docs, kubernetes_sd_config). */



describe('renderObservability for fixtures/shop-ts', () => {
  it('writes the Prometheus and Grafana files, each marked as generated', () => {
    const changes = renderObservability(plan);
    expect(changes.map((c) => c.path)).toEqual([
      'deploy/grafana/dashboard.json',
      'deploy/prometheus/alerts.test.yml',
      'deploy/prometheus/alerts.yml',
      'deploy/prometheus/prometheus.yml',
      'deploy/prometheus/prometheusrule.yaml',
      'deploy/prometheus/servicemonitor.yaml',
    ]);
    for (const change of changes) expect(isGenerated(change.content), change.path).toBe(true);
    expect(renderObservability(plan).map((c) => c.content)).toEqual(changes.map((c) => c.content));
  });

  it('scrapes the project pods by annotation and label, and keeps each metric its service label', () => {
    const config = YAML.parse(read('deploy/prometheus/prometheus.yml')) as { scrape_configs: Array<Record<string, any>> };
    const job = config.scrape_configs[0]!;
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['shop-ts'] }, selectors: [{ role: 'pod', label: 'app.kubernetes.io/part-of=shop-ts' }] }]);
    const keeps = job.relabel_configs.filter((r: any) => r.action === 'keep').map((r: any) => [r.source_labels[0], r.regex]);
    expect(keeps).toEqual([
      ['__meta_kubernetes_pod_annotation_prometheus_io_scrape', 'true'],
      ['__meta_kubernetes_pod_label_app_kubernetes_io_part_of', 'shop-ts'],
    ]);
    expect(job.relabel_configs).toContainEqual({ source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'], regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: '__address__' });
    expect(job.relabel_configs).toContainEqual({ source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], target_label: 'service' });
    expect(job.metric_relabel_configs).toEqual([
      { source_labels: ['exported_service'], regex: '(.+)', target_label: 'service' },
      { regex: 'exported_service', action: 'labeldrop' },
    ]);
  });

  it('promtool check config: rejects a broken config, accepts the generated one (kubernetes_sd_configs checked here)', () => {
    const generated = read('deploy/prometheus/prometheus.yml');
    // The SD checker itself rejects a wrong role, an unknown key and a meta label the role does not provide.
    const brokenSd = YAML.parse(generated);
    brokenSd.scrape_configs[0].kubernetes_sd_configs[0].role = 'pods';
    brokenSd.scrape_configs[0].kubernetes_sd_configs[0].namespace = 'shop-ts';
    brokenSd.scrape_configs[1].kubernetes_sd_configs[0].role = 'node';
    brokenSd.scrape_configs[1].relabel_configs[0].source_labels = ['__meta_kubernetes_pod_label_x'];
    expect(checkKubernetesSd(brokenSd)).toEqual([
      'scrape_configs[0] (shop-ts-pods).kubernetes_sd_configs[0]: unknown key namespace',
      'scrape_configs[0] (shop-ts-pods).kubernetes_sd_configs[0].role: pods is not one of node, service, pod, endpoints, endpointslice, ingress',
    ]);
    expect(checkKubernetesSd(YAML.parse(generated))).toEqual([]);

    // Debian's promtool: without the SD blocks it must still reject a bad relabel action and a bad duration...
    const alerts = read('deploy/prometheus/alerts.yml');
    const broken = scratch({
      'prometheus.yml': withoutKubernetesSd(generated).replace('action: keep', 'action: kepp').replace('scrape_interval: 15s', 'scrape_interval: 15 seconds'),
      'alerts.yml': alerts,
    });
    const rejected = promtool('check', 'config', path.join(broken, 'prometheus.yml'));
    expect(rejected.code).not.toBe(0);
    expect(rejected.output).toMatch(/kepp|15 seconds/);
    // ...and it rejects the real file only because of kubernetes_sd_configs, which this build lacks.
    expect(promtool('check', 'config', path.join(dir, 'deploy/prometheus/prometheus.yml')).output).toMatch(/kubernetes_sd_configs/);

    const good = scratch({ 'prometheus.yml': withoutKubernetesSd(generated), 'alerts.yml': alerts });
    const accepted = promtool('check', 'config', path.join(good, 'prometheus.yml'));
    expect(accepted.output).toContain('SUCCESS');
    expect(accepted.code).toBe(0);
  });

  it('promtool check rules: rejects a broken rule file, accepts alerts.yml', () => {
    const alerts = read('deploy/prometheus/alerts.yml');
    const broken = scratch({ 'alerts.yml': alerts.replace(') > 0.05"', ') > > 0.05"') });
    const rejected = promtool('check', 'rules', path.join(broken, 'alerts.yml'));
    expect(rejected.code).not.toBe(0);
    expect(rejected.output).toMatch(/parse error|unexpected/i);

    const accepted = promtool('check', 'rules', path.join(dir, 'deploy/prometheus/alerts.yml'));
    expect(accepted.output).toContain('SUCCESS: 4 rules found');
    expect(accepted.code).toBe(0);
  });

  it('has the four alerts, each with a runbook saying what it means and what to check first', () => {
    const rules = (YAML.parse(read('deploy/prometheus/alerts.yml')) as { groups: Array<{ rules: Array<Record<string, any>> }> }).groups[0]!.rules;
    expect(rules.map((r) => r.alert)).toEqual(Object.values(ALERT_NAMES));
    for (const rule of rules) {
      expect(rule.annotations.runbook).toMatch(/^What it means: .+ Check first: /);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.expr).toContain("namespace='shop-ts'");
    }
    expect(rules.find((r) => r.alert === ALERT_NAMES.podNotReady)!.expr).toContain('kube_pod_status_ready');
    expect(rules.find((r) => r.alert === ALERT_NAMES.cacheBypass)!.expr).toContain("cache_requests_total{namespace='shop-ts', result='bypass'}");
  });

  it('promtool test rules: the generated tests pass, and fail when the 5xx alert also fires below its threshold', () => {
    const tests = read('deploy/prometheus/alerts.test.yml');
    const alerts = read('deploy/prometheus/alerts.yml');
    // A rule that fires at 0.5% also fires for the service failing 1% of its requests: the test must catch it.
    const loose = scratch({ 'alerts.test.yml': tests, 'alerts.yml': alerts.replace(') > 0.05"', ') > 0.005"') });
    const rejected = promtool('test', 'rules', path.join(loose, 'alerts.test.yml'));
    expect(rejected.code).not.toBe(0);
    expect(rejected.output).toContain(`alertname: ${ALERT_NAMES.errors}`);
    expect(rejected.output).toContain('service="cart"');

    const passed = promtool('test', 'rules', path.join(dir, 'deploy/prometheus/alerts.test.yml'));
    expect(passed.output).toContain('SUCCESS');
    expect(passed.code).toBe(0);
    // Both sides of every alert are asserted: nothing before `for` has passed, exactly one service after.
    const parsed = YAML.parse(tests) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const cases = parsed.tests.flatMap((t) => t.alert_rule_test);
    for (const name of Object.values(ALERT_NAMES)) {
      expect(cases.filter((c) => c.alertname === name).map((c) => c.exp_alerts.length)).toEqual([0, 1]);
    }
  });

  it('the Prometheus Operator objects pass the prometheus-operator models and have no unknown fields', async () => {
    const { PodMonitor } = (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor')) as any;
    const { PrometheusRule } = (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule')) as any;
    const check = (kind: string, Model: any, object: any): string[] => {
      const problems: string[] = [];
      try {
        new Model(object).validate();
      } catch (error) {
        problems.push((error as Error).message);
      }
      // The models' validate() ignores unknown fields: compare every key under spec with the fields the
      // compiled schema knows (maps such as labels are free-form).
      const schema = fs.readFileSync(path.join(path.dirname(require.resolve('@kubernetes-models/prometheus-operator/package.json')), '_schemas', `MonitoringCoreosComV1${kind}.js`), 'utf8');
      const known = new Set([...schema.matchAll(/parentDataProperty:"([A-Za-z_]+)"/g)].map((m) => m[1]!));
      const walk = (value: unknown, at: string): void => {
        if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
        else if (value !== null && typeof value === 'object') {
          for (const [key, v] of Object.entries(value)) {
            if (!known.has(key)) problems.push(`${at}.${key}: unknown field`);
            if (!['matchLabels', 'labels', 'annotations'].includes(key)) walk(v, `${at}.${key}`);
          }
        }
      };
      walk(object.spec, 'spec');
      return problems;
    };
    const podMonitor = YAML.parse(read('deploy/prometheus/servicemonitor.yaml'));
    const rule = YAML.parse(read('deploy/prometheus/prometheusrule.yaml'));
    const broken = structuredClone(podMonitor);
    broken.spec.podMetricsEndpoints[0].relabelings[0].sourceLabel = ['x'];
    broken.spec.podMetricsEndpoints[0].interval = 15;
    expect(check('PodMonitor', PodMonitor, broken)).toEqual([
      expect.stringContaining('interval must be string'),
      'spec.podMetricsEndpoints[0].relabelings[0].sourceLabel: unknown field',
    ]);
    expect(check('PodMonitor', PodMonitor, podMonitor)).toEqual([]);
    expect(podMonitor.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/part-of': 'shop-ts' } });
    expect(check('PrometheusRule', PrometheusRule, rule)).toEqual([]);
    expect(rule.spec.groups).toEqual(YAML.parse(read('deploy/prometheus/alerts.yml')).groups);
  });

  it('the dashboard type-checks against @grafana/schema Dashboard and its PromQL passes promtool', () => {
    const dashboard = JSON.parse(read('deploy/grafana/dashboard.json'));
    // $comment is decompose's marker (Grafana keeps unknown top-level fields): not part of the type.
    delete dashboard.$comment;
    const broken = structuredClone(dashboard);
    broken.panels[1].gridPos.h = '8';
    broken.panels[2].targetz = [];
    broken.graphTooltip = 7;
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-grafana-'));
    const typesEntry = path.join(path.dirname(require.resolve('@grafana/schema/package.json')), 'dist', 'types', 'index.d.ts');
    const source = (value: unknown) => `import type { Dashboard } from '@grafana/schema';\nexport const dashboard: Dashboard = ${JSON.stringify(value, null, 2)};\n`;
    write(path.join(project, 'good.ts'), source(dashboard));
    write(path.join(project, 'broken.ts'), source(broken));
    write(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', skipLibCheck: true, types: [], paths: { '@grafana/schema': [typesEntry] } },
        files: ['good.ts', 'broken.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--pretty', 'false'], { cwd: project, encoding: 'utf8' });
    const errors = tsc.stdout.split('\n').filter((line) => /error TS/.test(line));
    expect(errors.filter((line) => line.startsWith('good.ts'))).toEqual([]);
    const brokenErrors = errors.filter((line) => line.startsWith('broken.ts')).join('\n');
    expect(brokenErrors).toMatch(/'string' is not assignable to type 'number'/);
    expect(brokenErrors).toMatch(/targetz/);
    expect(brokenErrors).toMatch(/Type '7' is not assignable to type 'DashboardCursorSync/);
    expect(tsc.status).not.toBe(0);

    // Every panel query, with Grafana's variables given values, as throw-away recording rules.
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs).toHaveLength(6);
    const asRules = (list: string[]) =>
      YAML.stringify({ groups: [{ name: 'dashboard', rules: list.map((expr, i) => ({ record: `dashboard:panel_query_${i}`, expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$service', '.+') })) }] });
    const folder = scratch({ 'good.yml': asRules(exprs), 'broken.yml': asRules([...exprs, 'sum by (route) (rate(http_requests_total[$__rate_interval])']) });
    const rejected = promtool('check', 'rules', path.join(folder, 'broken.yml'));
    expect(rejected.code).not.toBe(0);
    const accepted = promtool('check', 'rules', path.join(folder, 'good.yml'));
    expect(accepted.output).toContain('SUCCESS: 6 rules found');
    expect(accepted.code).toBe(0);
  });

  it('the dashboard offers every planned service and shows request rate, errors and p50/p95/p99 per service', () => {
    const dashboard = JSON.parse(read('deploy/grafana/dashboard.json'));
    const variable = dashboard.templating.list.find((v: { name: string }) => v.name === 'service');
    expect(variable.query.split(',')).toEqual(plan.services.map((s) => s.name).sort());
    expect(dashboard.panels[0]).toMatchObject({ type: 'row', repeat: 'service' });
    const byTitle = Object.fromEntries(dashboard.panels.slice(1).map((p: { title: string; targets: Array<{ expr: string; legendFormat: string }> }) => [p.title, p.targets]));
    expect(byTitle['Request rate'][0].expr).toBe("sum by (route) (rate(http_requests_total{namespace='shop-ts', service=~'$service'}[$__rate_interval]))");
    expect(byTitle['Error rate (5xx)'][0].expr).toContain("status=~'5..'");
    expect(byTitle.Latency.map((t: { legendFormat: string }) => t.legendFormat)).toEqual(['p50', 'p95', 'p99']);
    expect(byTitle.Latency[2].expr).toContain('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket');
  });
});

