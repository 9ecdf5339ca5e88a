import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { proposeSplit } from '../cluster/propose.js';
import type { Analysis } from '../model/analysis.js';
import type { FileChange } from '../model/file-change.js';
import { DEFAULT_SETTINGS, type Plan } from '../model/plan.js';
import { buildPlan } from '../plan/build-plan.js';
import { fixturePath } from '../test-support/temp-project.js';
import { UserError } from '../util/errors.js';
import { renderK8s } from './deploy-k8s.js';
import { buildDeployModel, staticPrefix } from './deploy-model.js';
import { type K8sObject, checkObject, checkStream, kustomize } from '../test-support/deploy-validators.js';

const HOST = 'shop.example.com';
const OPTIONS = { host: HOST, registry: 'ghcr.io/acme' };

// ---------------------------------------------------------------------------------------------------------
// The object check (VALIDATORS.md) lives in src/test-support/deploy-validators.ts: kubernetes-models validate()
// for types, required fields and enums, plus a walk for unknown (misspelled) fields.





// ---------------------------------------------------------------------------------------------------------



function writeTree(changes: FileChange[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-k8s-'));
  for (const change of changes) {
    fs.mkdirSync(path.dirname(path.join(root, change.path)), { recursive: true });
    fs.writeFileSync(path.join(root, change.path), change.content);
  }
  return root;
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function shopPlan(): Promise<{ plan: Plan; analysis: Analysis }> {
  const analysis = await analyze({ dir: fixturePath('shop-ts') });
  const { plan } = buildPlan(analysis, { settings: DEFAULT_SETTINGS, ...proposeSplit(analysis, DEFAULT_SETTINGS) });
  return { plan, analysis };
}

/** String literals the fixture uses as defaults of its secret-like variables (what must never be shipped). */
function fixtureSecretValues(analysis: Analysis): string[] {
  const values = new Set<string>();
  const secretNames = analysis.env.filter((e) => e.secretLike).map((e) => e.name);
  for (const file of listFiles(path.join(fixturePath('shop-ts'), 'src'))) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!secretNames.some((name) => line.includes(name))) continue;
      for (const [, literal] of line.matchAll(/'([^']{6,})'/g)) if (!secretNames.includes(literal!)) values.add(literal!);
    }
  }
  for (const name of fs.readdirSync(fixturePath('shop-ts'))) {
    if (!name.startsWith('.env')) continue;
    for (const line of fs.readFileSync(path.join(fixturePath('shop-ts'), name), 'utf8').split('\n')) {
      const value = line.split('=').slice(1).join('=').trim();
      if (value.length >= 4) values.add(value);
    }
  }
  return [...values].sort();
}

function podSpecs(objects: K8sObject[]): Array<{ name: string; spec: any }> {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet').map((o) => ({ name: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }));
}

function selectorNames(peers: any[] | undefined): string[] {
  return (peers ?? []).filter((p) => p.podSelector?.matchLabels && !p.namespaceSelector).map((p) => p.podSelector.matchLabels['app.kubernetes.io/name'] as string);
}

describe('the Kubernetes object check', () => {
  it('rejects misspelled fields that validate() alone lets through, and bad types', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replica: 2, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { selector: { a: 'b' }, prots: [{ port: 80 }] } };
    const badType = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 'eighty' }] } };
    expect(await checkObject(deployment as K8sObject, 'd')).toEqual(['d.spec.replica: unknown field of V1DeploymentSpec']);
    expect(await checkObject(service as K8sObject, 's')).toEqual(['s.spec.prots: unknown field of V1ServiceSpec']);
    expect((await checkObject(badType as K8sObject, 't')).join('\n')).toMatch(/spec\/ports\/0\/port: must be integer/);
    const fixed = { ...deployment, spec: { ...deployment.spec, replicas: 2, replica: undefined } };
    delete (fixed.spec as Record<string, unknown>).replica;
    expect(await checkObject(fixed as K8sObject, 'd')).toEqual([]);
  });

  it('kubectl kustomize rejects a broken kustomization', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-kustomize-'));
    fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n  - missing.yaml\n');
    expect(kustomize(dir).ok).toBe(false);
    fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resourcez:\n  - missing.yaml\n');
    expect(kustomize(dir)).toMatchObject({ ok: false, output: expect.stringMatching(/resourcez/) });
  });
});

describe('renderK8s on fixtures/shop-ts', async () => {
  const { plan, analysis } = await shopPlan();
  const changes = renderK8s(plan, analysis, OPTIONS);
  const root = writeTree(changes);
  const rendered: Record<string, { objects: K8sObject[]; problems: string[] }> = {};
  for (const overlay of ['base', 'overlays/dev', 'overlays/prod']) {
    const result = kustomize(path.join(root, 'deploy/k8s', overlay));
    if (!result.ok) throw new Error(`kubectl kustomize ${overlay} failed:\n${result.output}`);
    rendered[overlay] = await checkStream(result.output, overlay);
  }
  const prod = rendered['overlays/prod']!.objects;
  const dev = rendered['overlays/dev']!.objects;
  const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
  const serviceNames = plan.services.map((s) => s.name).sort();

  it('writes the kustomize tree under deploy/k8s, one folder per service', () => {
    const paths = changes.map((c) => c.path);
    for (const service of serviceNames) {
      for (const file of ['configmap', 'deployment', 'hpa', 'kustomization', 'network-policy', 'pdb', 'service']) {
        expect(paths).toContain(`deploy/k8s/base/services/${service}/${file}.yaml`);
      }
    }
    expect(paths).toEqual(expect.arrayContaining(['deploy/k8s/base/kustomization.yaml', 'deploy/k8s/base/ingress.yaml', 'deploy/k8s/base/namespace.yaml', 'deploy/k8s/base/redis/statefulset.yaml', 'deploy/k8s/overlays/dev/kustomization.yaml', 'deploy/k8s/overlays/prod/kustomization.yaml', 'deploy/k8s/README.md']));
    expect(paths.every((p) => p.startsWith('deploy/k8s/'))).toBe(true);
  });

  it('builds base, dev and prod with kubectl kustomize into objects that pass the object check', () => {
    for (const [overlay, result] of Object.entries(rendered)) {
      expect(result.problems, overlay).toEqual([]);
      const kinds = new Set(result.objects.map((o) => o.kind));
      for (const kind of ['Namespace', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ConfigMap', 'NetworkPolicy', 'Ingress', 'StatefulSet']) expect(kinds, overlay).toContain(kind);
      expect(result.objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'shop-ts'), overlay).toBe(true);
    }
    expect(byKind(prod, 'Deployment').map((d) => d.metadata.name).sort()).toEqual([...serviceNames, 'gateway'].sort());
  });

  it('runs every pod non-root, read-only, without capabilities, privilege escalation or a service account token', () => {
    for (const { name, spec } of podSpecs(prod)) {
      expect(spec.automountServiceAccountToken, name).toBe(false);
      expect(spec.securityContext.runAsNonRoot, name).toBe(true);
      expect(spec.securityContext.runAsUser, name).toBeGreaterThan(0);
      expect(spec.securityContext.seccompProfile.type, name).toBe('RuntimeDefault');
      for (const container of spec.containers) {
        expect(container.securityContext, name).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(container.resources.requests, name).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.resources.limits, name).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      }
    }
    expect(byKind(prod, 'Namespace')[0]!.metadata.labels!['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('gives each service probes on /healthz and /readyz, a rolling update without unavailability, spread and /tmp', () => {
    for (const deployment of byKind(prod, 'Deployment').filter((d) => serviceNames.includes(d.metadata.name))) {
      const spec = deployment.spec;
      const container = spec.template.spec.containers[0];
      expect(spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.startupProbe.httpGet.path).toBe('/healthz');
      expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      expect(spec.template.spec.topologySpreadConstraints.map((t: any) => t.topologyKey)).toContain('kubernetes.io/hostname');
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(spec.template.spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
    }
  });

  it('runs at least two replicas of everything in prod, with HPA bounds equal to the plan, and one in dev', () => {
    for (const service of plan.services) {
      const deployment = byKind(prod, 'Deployment').find((d) => d.metadata.name === service.name)!;
      const hpa = byKind(prod, 'HorizontalPodAutoscaler').find((h) => h.metadata.name === service.name)!;
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec).toMatchObject({ minReplicas: service.replicas.min, maxReplicas: service.replicas.max, scaleTargetRef: { kind: 'Deployment', name: service.name } });
      expect(hpa.spec.metrics[0].resource).toMatchObject({ name: 'cpu', target: { type: 'Utilization' } });
      expect(byKind(prod, 'PodDisruptionBudget').find((p) => p.metadata.name === service.name)!.spec.maxUnavailable).toBe(1);
      expect(byKind(dev, 'Deployment').find((d) => d.metadata.name === service.name)!.spec.replicas).toBe(1);
    }
    expect(byKind(prod, 'Deployment').every((d) => d.spec.replicas >= 2)).toBe(true);
  });

  it('ships no Secret and no secret value: secret-like names appear only as secretKeyRef', () => {
    for (const result of Object.values(rendered)) expect(byKind(result.objects, 'Secret')).toEqual([]);
    const secretNames = analysis.env.filter((e) => e.secretLike).map((e) => e.name);
    expect(secretNames.length).toBeGreaterThan(0);
    const places: string[] = [];
    const walk = (value: unknown, at: string) => {
      if (typeof value === 'string') {
        if (secretNames.some((n) => value.includes(n))) places.push(at);
      } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
      else if (value && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          if (secretNames.some((n) => k.includes(n))) places.push(`${at}.${k}(key)`);
          walk(v, `${at}.${k}`);
        }
      }
    };
    prod.forEach((o, i) => walk(o, `${i}:${o.kind}/${o.metadata.name}`));
    expect(places.length).toBeGreaterThan(0);
    for (const place of places) expect(place).toMatch(/^\d+:Deployment\/[a-z-]+\.spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.(name|valueFrom\.secretKeyRef\.key)$/);
    for (const deployment of byKind(prod, 'Deployment')) {
      for (const env of deployment.spec.template.spec.containers[0].env ?? []) {
        if (secretNames.includes(env.name) || env.name === 'INTERNAL_TOKEN') expect(env.valueFrom.secretKeyRef, env.name).toBeDefined();
        expect(env.value, env.name).toBeUndefined();
      }
    }
    const values = fixtureSecretValues(analysis);
    expect(values).toEqual(expect.arrayContaining(['dev-only-jwt-secret-change-me', 'sk_test_local_fake', 'dev-smtp-password']));
    for (const file of listFiles(root)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const value of values) expect(text.includes(value), `${value} in ${file}`).toBe(false);
    }
    for (const output of Object.values(rendered)) for (const value of values) expect(JSON.stringify(output.objects).includes(value)).toBe(false);
  });

  it('references only ConfigMap keys that exist or are optional, and the internal token Secret by convention', () => {
    const configMaps = new Map(byKind(prod, 'ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
    for (const deployment of byKind(prod, 'Deployment').filter((d) => serviceNames.includes(d.metadata.name))) {
      const env = deployment.spec.template.spec.containers[0].env as any[];
      for (const entry of env) {
        const ref = entry.valueFrom.configMapKeyRef;
        if (ref && !ref.optional) expect(configMaps.get(ref.name)?.[ref.key], `${deployment.metadata.name} ${entry.name}`).toBeDefined();
      }
      expect(env).toContainEqual({ name: 'INTERNAL_TOKEN', valueFrom: { secretKeyRef: { name: 'shop-ts-internal', key: 'internal-token' } } });
      const data = configMaps.get(`${deployment.metadata.name}-config`)!;
      expect(data.PORT).toBe('8080');
      const service = plan.services.find((s) => s.name === deployment.metadata.name)!;
      for (const to of service.dependsOn) expect(data[`${to.toUpperCase().replace(/-/g, '_')}_URL`]).toBe(`http://${to}:8080`);
    }
    for (const service of serviceNames) expect(configMaps.get(`${service}-config`)!.REDIS_URL, service).toBe('redis://redis:6379');
  });

  it('derives NetworkPolicy edges exactly from the plan: default deny, dependsOn both ways, Redis and DNS', () => {
    const planEdges = plan.services.flatMap((s) => s.dependsOn.map((to) => `${s.name}->${to}`)).sort();
    const policies = byKind(prod, 'NetworkPolicy');
    const deny = policies.find((p) => p.metadata.name === 'default-deny')!;
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const egress: string[] = [];
    const ingress: string[] = [];
    for (const service of serviceNames) {
      const policy = policies.find((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === service)!;
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      for (const rule of policy.spec.egress) for (const to of selectorNames(rule.to)) if (serviceNames.includes(to)) egress.push(`${service}->${to}`);
      for (const rule of policy.spec.ingress) for (const from of selectorNames(rule.from)) if (serviceNames.includes(from)) ingress.push(`${from}->${service}`);
      const dns = policy.spec.egress.find((r: any) => r.to.some((p: any) => p.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns'));
      expect(dns.ports).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
      expect(selectorNames(policy.spec.ingress[0].from)).toContain('gateway');
      const usesRedis = policy.spec.egress.some((r: any) => selectorNames(r.to).includes('redis'));
      // Every service's runtime caches in Redis.
      expect(usesRedis, service).toBe(true);
    }
    expect(egress.sort()).toEqual(planEdges);
    expect(ingress.sort()).toEqual(planEdges);
    const redis = policies.find((p) => p.metadata.name === 'redis')!;
    expect(selectorNames(redis.spec.ingress[0].from).sort()).toEqual(serviceNames);
    expect(redis.spec.egress).toEqual([]);
  });

  it('serves the host over TLS from cert-manager, routing static route prefixes to their services', () => {
    const [ingress] = byKind(prod, 'Ingress');
    expect(ingress!.metadata.annotations!['cert-manager.io/cluster-issuer']).toBeTruthy();
    expect(ingress!.spec.tls).toEqual([{ hosts: [HOST], secretName: 'shop-ts-tls' }]);
    const paths = ingress!.spec.rules[0].http.paths as any[];
    expect(ingress!.spec.rules[0].host).toBe(HOST);
    const route = (p: string) => paths.find((x) => x.path === p)?.backend.service.name;
    expect(route('/')).toBe('gateway');
    expect(route('/api/orders')).toBe('orders');
    expect(route('/api/cart')).toBe('cart');
    expect(route('/api/admin/categories')).toBe('catalog');
    const services = byKind(prod, 'Service');
    for (const p of paths) {
      expect(p.pathType).toBe('Prefix');
      expect(services.find((s) => s.metadata.name === p.backend.service.name)?.spec.ports[0].name).toBe(p.backend.service.port.name);
    }
    // Every route of a service is reached through one of its prefixes or the gateway fallback, never another service.
    for (const service of plan.services) {
      for (const r of service.routes) {
        const routePath = r.slice(r.indexOf(' ') + 1);
        const match = paths.filter((p) => p.path === '/' || routePath === p.path || routePath.startsWith(`${p.path}/`)).sort((a, b) => b.path.length - a.path.length)[0];
        expect([service.name, 'gateway'], r).toContain(match.backend.service.name);
      }
    }
  });

  it('selects pods that exist from every Service, PDB and HPA', () => {
    const templates = [...byKind(prod, 'Deployment'), ...byKind(prod, 'StatefulSet')].map((d) => d.spec.template.metadata.labels);
    for (const service of byKind(prod, 'Service')) {
      expect(templates.some((labels) => Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v)), service.metadata.name).toBe(true);
    }
    for (const pdb of byKind(prod, 'PodDisruptionBudget')) {
      expect(templates.some((labels) => Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => labels[k] === v)), pdb.metadata.name).toBe(true);
    }
  });

  it('uses the registry and a release tag in prod and local dev images', () => {
    const images = (objects: K8sObject[]) => byKind(objects, 'Deployment').map((d) => d.spec.template.spec.containers[0].image as string).sort();
    expect(images(prod)).toContain('ghcr.io/acme/shop-ts-orders:REPLACE_WITH_RELEASE_TAG');
    expect(images(dev)).toContain('shop-ts-orders:dev');
    expect(byKind(dev, 'StatefulSet')[0]!.spec.replicas).toBe(1);
  });

  it('catches a misspelled field in a rendered file after kustomize (the check is not vacuous)', async () => {
    const broken = writeTree(changes);
    const edit = (file: string, from: RegExp, to: string) => {
      const full = path.join(broken, file);
      fs.writeFileSync(full, fs.readFileSync(full, 'utf8').replace(from, to));
    };
    edit('deploy/k8s/base/services/orders/deployment.yaml', /\n {2}replicas:/, '\n  replica:');
    edit('deploy/k8s/base/services/orders/service.yaml', /\n {2}ports:/, '\n  prots:');
    const result = kustomize(path.join(broken, 'deploy/k8s/overlays/prod'));
    expect(result.ok).toBe(true); // kustomize itself does not look inside resources
    expect((await checkStream(result.output, 'prod')).problems).toEqual([
      'prod:Service/orders.spec.prots: unknown field of V1ServiceSpec',
      'prod:Deployment/orders.spec.replica: unknown field of V1DeploymentSpec',
    ]);
  });

  it('derives Ingress prefixes: longest static prefix, shared ones to the gateway, nothing internal or redundant', () => {
    const routes: Plan = structuredClone(plan);
    const set = (name: string, list: string[]) => (routes.services.find((s) => s.name === name)!.routes = list);
    for (const service of routes.services) service.routes = [];
    set('orders', ['GET /api/orders', 'GET /api/orders/:id/items', 'GET /api/shared', 'POST /_internal/orders/reserve', 'GET /:slug']);
    set('cart', ['POST /api/shared', 'GET /api/shared/carts/:id', 'GET /api/cart', 'DELETE /api/cart/items/:id', 'GET /api/cart(s)?']);
    routes.entryRoutes = ['GET /health', 'ALL /api/v1/*'];
    const model = buildDeployModel(routes, analysis, OPTIONS);
    expect(model.ingress.paths).toEqual([
      { path: '/', backend: 'gateway' },
      // `cart(s)?` is not static: its prefix is `/api`, which then covers `/api/cart` ...
      { path: '/api', backend: 'cart' },
      { path: '/api/orders', backend: 'orders' },
      { path: '/api/shared', backend: 'gateway' },
      { path: '/api/shared/carts', backend: 'cart' },
      // ... and would swallow the entry route /api/v1/*, so the gateway keeps it explicitly.
      { path: '/api/v1', backend: 'gateway' },
    ]);
    expect(model.services.find((s) => s.name === 'orders')!.routePrefixes).toEqual(['/api/orders']);
    expect(staticPrefix('/api/orders/:id/items')).toBe('/api/orders');
    expect(staticPrefix('/:slug')).toBe('/');
  });

  it('is deterministic', () => {
    expect(renderK8s(plan, analysis, OPTIONS).map((c) => [c.path, c.content])).toEqual(changes.map((c) => [c.path, c.content]));
  });

  it('renders hostile project, route and file names into valid YAML and refuses hostile service names', async () => {
    const hostile = 'x": {{evil}} #\n- injected: [';
    const twisted: Plan = structuredClone(plan);
    twisted.project = `Shop "TS": {{x}}`;
    const orders = twisted.services.find((s) => s.name === 'orders')!;
    orders.routes = [...orders.routes, `GET /api/we"ird: {{x}}/items`, `POST /api/orders-${hostile}`];
    orders.hazards = [...orders.hazards, { kind: 'timer', file: `src/${hostile}.ts`, line: 3, message: `a timer in ${hostile}\u2028- injected: true` }];
    const hostileChanges = renderK8s(twisted, analysis, OPTIONS);
    const tree = writeTree(hostileChanges);
    for (const change of hostileChanges.filter((c) => c.path.endsWith('.yaml'))) {
      for (const doc of YAML.parseAllDocuments(change.content)) expect(doc.errors, change.path).toEqual([]);
    }
    const built = kustomize(path.join(tree, 'deploy/k8s/overlays/prod'));
    expect(built.ok, built.output).toBe(true);
    const { objects, problems } = await checkStream(built.output, 'hostile');
    expect(problems).toEqual([]);
    expect(objects.find((o) => o.kind === 'Namespace')!.metadata.name).toBe('shop-ts-x');
    expect(objects.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'shop-ts-x')).toBe(true);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'orders')!;
    expect(deployment.metadata.annotations!['decompose.dev/scale-out-hazards']).toContain(`src/${hostile}.ts`);
    expect(deployment.metadata.annotations!['decompose.dev/scale-out-hazards']).toContain('\\u2028- injected: true');
    expect(Object.keys(deployment.metadata.annotations!).sort()).toEqual(['decompose.dev/depends-on', 'decompose.dev/scale-out-hazards']);
    // Ingress paths only take characters the ingress controller matches literally.
    const paths = objects.find((o) => o.kind === 'Ingress')!.spec.rules[0].http.paths.map((p: any) => p.path);
    for (const p of paths) expect(p).toMatch(/^\/[A-Za-z0-9._~/-]*$/);
    expect(staticPrefix('/api/we"ird: {{x}}/items')).toBe('/api');

    const badName: Plan = structuredClone(plan);
    badName.services[0]!.name = 'Orders": {{x}}';
    expect(() => renderK8s(badName, analysis, OPTIONS)).toThrow(UserError);
    expect(() => buildDeployModel(plan, analysis, { host: 'shop.example.com"\n- x' })).toThrow(/not a DNS host name/);
  });
});
