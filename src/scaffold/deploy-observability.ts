import type { FileChange } from '../model/file-change.js';
import type { Plan } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { toDnsLabel } from './deploy-model.js';
import { renderTemplates } from './render-templates.js';

/**
 * Observability for the decomposed system: a Prometheus scrape configuration (plain `kubernetes_sd_configs` and a
 * Prometheus Operator PodMonitor), alerting rules with runbooks and their `promtool test rules` unit tests, and a
 * Grafana dashboard. Everything keys on the conventions every generated service follows: pods labelled
 * `app.kubernetes.io/name=<service>` and `app.kubernetes.io/part-of=<project>` in the namespace `<project>`, annotated
 * `prometheus.io/scrape: "true"` and `prometheus.io/port`, exposing `http_requests_total`,
 * `http_request_duration_seconds` and `cache_requests_total` labelled with `service`.
 */

/** Where the files go, relative to the scaffold root. */
export const PROMETHEUS_DIR = 'deploy/prometheus';
export const GRAFANA_DIR = 'deploy/grafana';

/** Alert thresholds, shared by the rules and their unit tests so the two cannot drift apart. */
export const ALERT_THRESHOLDS = {
  /** Share of requests answered 5xx. */
  errorRatio: 0.05,
  errorFor: '5m',
  /** p99 latency in seconds. */
  latencyP99Seconds: 1,
  latencyFor: '10m',
  podNotReadyFor: '10m',
  /** Share of cache lookups that bypass the cache. */
  cacheBypassRatio: 0.25,
  cacheBypassFor: '10m',
} as const;

export const ALERT_NAMES = {
  errors: 'ServiceHighErrorRate',
  latency: 'ServiceHighLatencyP99',
  podNotReady: 'PodNotReady',
  cacheBypass: 'CacheBypassSurge',
} as const;

interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  severity: 'critical' | 'warning';
  summary: string;
  description: string;
  runbook: string;
}

interface DashboardPanel {
  id: number;
  title: string;
  description: string;
  unit: string;
  max: number | null;
  gridPos: { h: number; w: number; x: number; y: number };
  targets: Array<{ refId: string; expr: string; legendFormat: string }>;
}

/** Renders everything under deploy/prometheus and deploy/grafana for the plan. */
export function renderObservability(plan: Plan): FileChange[] {
  // The same namespace and part-of value the Kubernetes generator uses.
  const namespace = toDnsLabel(plan.project) || 'app';
  const services = plan.services.map((s) => s.name).sort(compareStrings);
  const rules = alertRules(namespace);
  const prometheus = renderTemplates({
    template: 'prometheus',
    into: PROMETHEUS_DIR,
    context: {
      project: plan.project,
      namespace,
      jobName: `${namespace}-pods`,
      partOfRegex: regexLiteral(namespace),
      partOfSelector: `app.kubernetes.io/part-of=${namespace}`,
      podMonitorName: `${namespace}-services`,
      groupName: `${namespace}.services`,
      rules,
      tests: alertTests(namespace, services),
    },
  });
  const grafana = renderTemplates({
    template: 'grafana',
    into: GRAFANA_DIR,
    context: {
      uid: `${namespace}-services`.slice(0, 40),
      title: `${plan.project} services`,
      tags: ['decompose', namespace],
      servicesQuery: services.join(','),
      serviceOptions: services.map((name) => ({ text: name, value: name })),
      panels: dashboardPanels(namespace),
    },
  });
  return [...prometheus, ...grafana].sort((a, b) => compareStrings(a.path, b.path));
}

/** A regular expression (RE2, as Prometheus uses) that matches exactly this text. */
function regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A PromQL string literal, single-quoted so the rendered YAML and JSON need no escaped double quotes. */
function promString(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&').replace(/\n/g, '\\n')}'`;
}

function alertRules(namespace: string): AlertRule[] {
  const ns = `namespace=${promString(namespace)}`;
  const t = ALERT_THRESHOLDS;
  const logs = `kubectl -n ${namespace} logs -l app.kubernetes.io/name={{ $labels.service }} --since=30m`;
  return [
    {
      alert: ALERT_NAMES.errors,
      expr:
        `(sum by (namespace, service) (rate(http_requests_total{${ns}, status=~'5..'}[5m]))` +
        ` / sum by (namespace, service) (rate(http_requests_total{${ns}}[5m]))) > ${t.errorRatio}`,
      for: t.errorFor,
      severity: 'critical',
      summary: '{{ $labels.service }} answers {{ $value | humanizePercentage }} of its requests with a 5xx',
      description: `More than ${percent(t.errorRatio)} of the requests to {{ $labels.service }} have failed with a server error for ${t.errorFor}; clients see these errors.`,
      runbook:
        'What it means: the service itself or something it calls is failing, not the clients. ' +
        'Check first: on the dashboard, whether the errors sit on one route (a bad handler or one failing dependency) or on all routes (the pods, their configuration or a shared dependency); ' +
        `whether they started with a deployment (kubectl -n ${namespace} rollout history deployment/{{ $labels.service }}; roll back with kubectl -n ${namespace} rollout undo deployment/{{ $labels.service }}); ` +
        `then the logs (${logs}) and the same alert on the services it depends on.`,
    },
    {
      alert: ALERT_NAMES.latency,
      expr: `histogram_quantile(0.99, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket{${ns}}[5m]))) > ${t.latencyP99Seconds}`,
      for: t.latencyFor,
      severity: 'warning',
      summary: '{{ $labels.service }} p99 latency is {{ $value | humanizeDuration }}',
      description: `The slowest 1% of requests to {{ $labels.service }} have taken longer than ${t.latencyP99Seconds}s for ${t.latencyFor}.`,
      runbook:
        'What it means: some requests are slow enough for clients to time out or retry, which adds load. ' +
        'Check first: the latency panel by route (one slow route points at its handler or the service it calls); ' +
        `CPU throttling and memory of the pods (kubectl -n ${namespace} top pods -l app.kubernetes.io/name={{ $labels.service }}); ` +
        'whether replicas are at the autoscaler maximum; the latency of the services it depends on; a cache that stopped hitting (CacheBypassSurge).',
    },
    {
      alert: ALERT_NAMES.podNotReady,
      // Pod names are <deployment>-<replica set hash>-<suffix>; the deployment is named after the service.
      expr: `label_replace(max by (namespace, pod) (kube_pod_status_ready{${ns}, condition='true'}) == 0, 'service', '$1', 'pod', '(.+)-[a-z0-9]+-[a-z0-9]+')`,
      for: t.podNotReadyFor,
      severity: 'warning',
      summary: 'Pod {{ $labels.pod }} has not been ready for ' + t.podNotReadyFor,
      description: `kube-state-metrics reports pod {{ $labels.pod }} in ${namespace} as not ready for ${t.podNotReadyFor}: it receives no traffic, and the service runs with fewer replicas than planned.`,
      runbook:
        'What it means: the readiness probe fails, the container is restarting, or the pod cannot be scheduled or pull its image. ' +
        `Check first: kubectl -n ${namespace} describe pod {{ $labels.pod }} (events: scheduling, image pull, probe failures); ` +
        `kubectl -n ${namespace} logs {{ $labels.pod }} --previous for a crash; then whether a dependency the readiness check needs (database, cache, another service) is down.`,
    },
    {
      alert: ALERT_NAMES.cacheBypass,
      expr:
        `(sum by (namespace, service) (rate(cache_requests_total{${ns}, result='bypass'}[10m]))` +
        ` / sum by (namespace, service) (rate(cache_requests_total{${ns}}[10m]))) > ${t.cacheBypassRatio}`,
      for: t.cacheBypassFor,
      severity: 'warning',
      summary: '{{ $labels.service }} bypasses its cache for {{ $value | humanizePercentage }} of lookups',
      description: `More than ${percent(t.cacheBypassRatio)} of the cache lookups of {{ $labels.service }} have bypassed the cache for ${t.cacheBypassFor}: every bypass goes to the service or store behind it.`,
      runbook:
        'What it means: the cache is unreachable or was switched off, or requests stopped being cacheable (new headers, a changed route), so the load lands on the backing store. ' +
        `Check first: whether the cache (Redis) is up and reachable from the pods; the service's recent deployments and configuration (kubectl -n ${namespace} rollout history deployment/{{ $labels.service }}); ` +
        `then the logs (${logs}) for cache errors; watch the latency and error alerts of the services behind it.`,
    },
  ];
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

interface AlertTestCase {
  evalTime: string;
  alertname: string;
  expected: Array<{ labels: Record<string, string>; annotations: Record<string, string> }>;
}

interface AlertTestGroup {
  comment: string;
  series: Array<{ series: string; values: string }>;
  cases: AlertTestCase[];
}

/**
 * `promtool test rules` input: for each alert, one service above the threshold (fires once its `for` has passed)
 * and one below it (never fires). Annotations are expanded here exactly as Prometheus will.
 */
function alertTests(namespace: string, services: string[]): { groups: AlertTestGroup[] } {
  const [hot = 'service-a', cold = services.find((s) => s !== hot) ?? 'service-b'] = services;
  const rules = new Map(alertRules(namespace).map((r) => [r.alert, r]));
  const series = (name: string, labels: Record<string, string>) =>
    `${name}{${Object.entries({ namespace, ...labels })
      .map(([k, v]) => `${k}=${promString(v)}`)
      .join(', ')}}`;
  const expected = (alert: string, labels: Record<string, string>, value: string) => {
    const rule = rules.get(alert)!;
    const all = { namespace, ...labels };
    return {
      labels: { severity: rule.severity, ...all },
      annotations: {
        description: expand(rule.description, all, value),
        runbook: expand(rule.runbook, all, value),
        summary: expand(rule.summary, all, value),
      },
    };
  };
  const request = (service: string, status: string) => ({ method: 'GET', route: '/example', service, status });
  const hotPod = `${hot}-5d4f8b7c9-x2x7q`;
  const coldPod = `${cold}-6c8d9f5b7-q9w4z`;
  return {
    groups: [
      {
        comment: `5xx: ${hot} fails 10% of its requests, ${cold} 1% (below the ${percent(ALERT_THRESHOLDS.errorRatio)} threshold)`,
        series: [
          { series: series('http_requests_total', request(hot, '500')), values: '0+6x30' },
          { series: series('http_requests_total', request(hot, '200')), values: '0+54x30' },
          { series: series('http_requests_total', request(cold, '503')), values: '0+1x30' },
          { series: series('http_requests_total', request(cold, '200')), values: '0+99x30' },
        ],
        cases: [
          { evalTime: '4m', alertname: ALERT_NAMES.errors, expected: [] },
          { evalTime: '20m', alertname: ALERT_NAMES.errors, expected: [expected(ALERT_NAMES.errors, { service: hot }, '10%')] },
        ],
      },
      {
        comment: `p99 latency: every request to ${hot} takes 1 to 2.5 s, every request to ${cold} under 100 ms`,
        series: [
          ...bucketSeries(hot, [0, 0, 0, 10, 10]).map(([labels, values]) => ({ series: series('http_request_duration_seconds_bucket', labels), values })),
          ...bucketSeries(cold, [10, 10, 10, 10, 10]).map(([labels, values]) => ({ series: series('http_request_duration_seconds_bucket', labels), values })),
        ],
        cases: [
          { evalTime: '5m', alertname: ALERT_NAMES.latency, expected: [] },
          { evalTime: '20m', alertname: ALERT_NAMES.latency, expected: [expected(ALERT_NAMES.latency, { service: hot }, '2.485s')] },
        ],
      },
      {
        comment: `pod not ready: one ${hot} pod never becomes ready, the ${cold} pod is ready`,
        series: [
          { series: `kube_pod_status_ready{condition='true', namespace=${promString(namespace)}, pod=${promString(hotPod)}}`, values: '0x30' },
          { series: `kube_pod_status_ready{condition='false', namespace=${promString(namespace)}, pod=${promString(hotPod)}}`, values: '1x30' },
          { series: `kube_pod_status_ready{condition='true', namespace=${promString(namespace)}, pod=${promString(coldPod)}}`, values: '1x30' },
          { series: `kube_pod_status_ready{condition='false', namespace=${promString(namespace)}, pod=${promString(coldPod)}}`, values: '0x30' },
        ],
        cases: [
          { evalTime: '5m', alertname: ALERT_NAMES.podNotReady, expected: [] },
          { evalTime: '15m', alertname: ALERT_NAMES.podNotReady, expected: [expected(ALERT_NAMES.podNotReady, { pod: hotPod, service: hot }, '0')] },
        ],
      },
      {
        comment: `cache bypass: half of ${hot}'s lookups bypass the cache, 1% of ${cold}'s`,
        series: [
          { series: series('cache_requests_total', { result: 'bypass', service: hot }), values: '0+5x30' },
          { series: series('cache_requests_total', { result: 'hit', service: hot }), values: '0+5x30' },
          { series: series('cache_requests_total', { result: 'bypass', service: cold }), values: '0+1x30' },
          { series: series('cache_requests_total', { result: 'hit', service: cold }), values: '0+90x30' },
          { series: series('cache_requests_total', { result: 'miss', service: cold }), values: '0+9x30' },
        ],
        cases: [
          { evalTime: '5m', alertname: ALERT_NAMES.cacheBypass, expected: [] },
          { evalTime: '25m', alertname: ALERT_NAMES.cacheBypass, expected: [expected(ALERT_NAMES.cacheBypass, { service: hot }, '50%')] },
        ],
      },
    ],
  };
}

/** Cumulative histogram buckets growing by the given counts per minute (le = 0.1, 0.5, 1, 2.5, +Inf). */
function bucketSeries(service: string, perMinute: number[]): Array<[Record<string, string>, string]> {
  const bounds = ['0.1', '0.5', '1', '2.5', '+Inf'];
  return bounds.map((le, i) => [{ le, method: 'GET', route: '/example', service }, `0+${perMinute[i]}x30`]);
}

/** Expands the Go-template references the annotations use, as Prometheus does for a firing alert. */
function expand(text: string, labels: Record<string, string>, value: string): string {
  return text
    .replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_, name: string) => labels[name] ?? '')
    .replace(/\{\{ \$value \| humanize(Percentage|Duration) \}\}/g, value);
}

/**
 * One row per service (the row repeats over the `service` variable), each with request rate by route, 5xx ratio,
 * latency p50/p95/p99 and cache results.
 */
function dashboardPanels(namespace: string): DashboardPanel[] {
  const sel = `namespace=${promString(namespace)}, service=~'$service'`;
  const rate = (metric: string, extra = '') => `rate(${metric}{${sel}${extra}}[$__rate_interval])`;
  const quantile = (q: string) => `histogram_quantile(${q}, sum by (le) (${rate('http_request_duration_seconds_bucket')}))`;
  const panel = (id: number, x: number, title: string, description: string, unit: string, max: number | null, targets: DashboardPanel['targets']): DashboardPanel => ({
    id,
    title,
    description,
    unit,
    max,
    gridPos: { h: 8, w: 6, x, y: 1 },
    targets,
  });
  return [
    panel(2, 0, 'Request rate', 'Requests per second by route pattern.', 'reqps', null, [
      { refId: 'A', expr: `sum by (route) (${rate('http_requests_total')})`, legendFormat: '{{route}}' },
    ]),
    panel(3, 6, 'Error rate (5xx)', 'Share of requests answered with a server error; the ServiceHighErrorRate alert fires above ' + percent(ALERT_THRESHOLDS.errorRatio) + '.', 'percentunit', 1, [
      { refId: 'A', expr: `sum(${rate('http_requests_total', ", status=~'5..'")}) / sum(${rate('http_requests_total')})`, legendFormat: '5xx ratio' },
    ]),
    panel(4, 12, 'Latency', `Request duration quantiles; the ServiceHighLatencyP99 alert fires when p99 stays above ${ALERT_THRESHOLDS.latencyP99Seconds}s.`, 's', null, [
      { refId: 'A', expr: quantile('0.5'), legendFormat: 'p50' },
      { refId: 'B', expr: quantile('0.95'), legendFormat: 'p95' },
      { refId: 'C', expr: quantile('0.99'), legendFormat: 'p99' },
    ]),
    panel(5, 18, 'Cache', 'Cache lookups per second by result (hit, miss, bypass).', 'reqps', null, [
      { refId: 'A', expr: `sum by (result) (${rate('cache_requests_total')})`, legendFormat: '{{result}}' },
    ]),
  ];
}
