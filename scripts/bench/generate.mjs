#!/usr/bin/env node
// Writes a synthetic Express monolith of a given number of modules, for `npm run bench`.
//
//   node scripts/bench/generate.mjs --modules 1000 [--seed 42] --out DIR [--json]
//
// Same modules + seed -> byte-identical tree. The shape follows real Express monoliths:
// - src/app.ts creates the app and mounts `app.use('/api', api)` and `app.use('/admin', authenticate, requireRole('admin'), adminRouter)`;
// - src/routes/api.ts mounts one router per domain (`api.use('/orders', ordersRouter)`), imported through the domain's
//   barrel (`@domains/orders`), a relative barrel or the router file itself; legacy CommonJS domains are mounted by
//   src/routes/legacy.js, a function that receives the api router;
// - src/domains/<domain>/ (20–80 domains, sizes uneven): index barrel, a domain router that mounts one router per
//   entity (`ordersRouter.use('/items', orderItemRouter)`), and per entity a model, a repository (in-process
//   `db.table()` store for TypeScript domains, mongoose models for CommonJS ones), a service of async functions
//   (some calling other domains' services), a controller of asyncHandler-wrapped route handlers and a router;
//   plus helpers (policies, mappers, validators …); big TypeScript domains use layer sub-folders;
// - about a quarter of the domains are CommonJS (.js, require/module.exports), the rest ESM-syntax TypeScript;
//   tsconfig paths aliases (@shared, @domains/*, @db/*, @middleware/*) are used by TypeScript modules;
// - src/shared/ (logger, errors, async-handler, pagination, a barrel) and src/shared/utils/ (2% of the modules);
// - about 100 lines per module on average.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { padWithFillers } from './fillers.mjs';
import { Rng } from './rng.mjs';

export const GENERATOR_VERSION = 1;

/** Domain folder and the stem of its main entity. The folder names avoid decompose's layer names. */
const DOMAINS = `orders:order billing:bill catalog:product inventory:stockItem shipping:shipment payments:payment
customers:customer accounts:account invoices:invoice pricing:priceList promotions:promotion reviews:review
notifications:notification search:searchIndex recommendations:recommendation loyalty:loyaltyCard returns:returnRequest
warehouses:warehouse suppliers:supplier procurement:purchaseOrder subscriptions:subscription carts:cart
wishlists:wishlist giftcards:giftCard taxes:taxRate refunds:refund fulfillment:fulfillmentTask tracking:trackingEvent
ratings:rating messaging:message tickets:ticket onboarding:onboardingStep compliance:complianceCase audit:auditEntry
reporting:reportJob analytics:metric marketing:audience campaigns:campaign coupons:coupon bundles:bundle
vouchers:voucher memberships:membership referrals:referral affiliates:affiliate partners:partner contracts:contract
quotes:quote leads:lead deals:deal appointments:appointment bookings:booking reservations:reservation
schedules:shift deliveries:delivery couriers:courier fleet:vehicle drivers:driver maintenance:workOrder
documents:document media:asset articles:article comments:comment forums:thread surveys:survey
feedback:feedbackItem announcements:announcement calendars:calendarEvent tasks:task projects:project
timesheets:timesheet payroll:payslip employees:employee departments:department recruiting:candidate
benefits:benefitPlan expenses:expense budgets:budget ledgers:ledgerEntry treasury:cashPosition currencies:currency
settlements:settlement disputes:dispute chargebacks:chargeback fraud:fraudSignal identity:identityProfile
permissions:permissionGrant teams:team organizations:organization tenants:tenant licenses:license
entitlements:entitlement metering:meterReading quotas:quota webhooks:webhook integrations:integration
translations:translation stores:store menus:menuItem recipes:recipe kiosks:kiosk`
  .split(/\s+/)
  .filter(Boolean)
  .map((pair) => {
    const [folder, stem] = pair.split(':');
    return { folder, stem };
  });

const SUB_ENTITIES = ['item', 'line', 'batch', 'policy', 'rule', 'template', 'snapshot', 'adjustment', 'allocation', 'approval', 'note',
  'attachment', 'version', 'limit', 'preference', 'assignment', 'reminder', 'tag', 'segment', 'schedule', 'channel', 'region', 'threshold', 'export'];
const HELPER_KINDS = ['policy', 'mapper', 'validator', 'events', 'calculator', 'formatter', 'rules', 'notifier', 'importer', 'exporter', 'scheduler', 'presenter', 'guard', 'normalizer', 'matcher'];
const UTIL_NAMES = ['dates', 'money', 'strings', 'arrays', 'retry', 'slug', 'csv', 'http-client', 'crypto', 'objects', 'numbers',
  'query', 'sorting', 'timezones', 'phone', 'address', 'email', 'files', 'locks', 'feature-flags', 'metrics', 'tracing', 'cache-keys', 'urls'];
const STATUSES = ['draft', 'pending', 'active', 'approved', 'rejected', 'archived', 'cancelled', 'completed', 'failed', 'scheduled', 'expired', 'on_hold'];
const VERBS = ['approve', 'archive', 'cancel', 'publish', 'recalculate', 'sync', 'assign', 'close', 'reopen', 'verify', 'schedule', 'expire'];
const FIELDS = [
  { name: 'name', type: 'string', mongoose: 'String', sample: "'Standard'" },
  { name: 'title', type: 'string', mongoose: 'String', sample: "'Untitled'" },
  { name: 'amountCents', type: 'number', mongoose: 'Number', sample: '0' },
  { name: 'currency', type: 'string', mongoose: 'String', sample: "'EUR'" },
  { name: 'quantity', type: 'number', mongoose: 'Number', sample: '1' },
  { name: 'ownerId', type: 'string', mongoose: 'String', sample: "''" },
  { name: 'customerId', type: 'string', mongoose: 'String', sample: "''" },
  { name: 'dueDate', type: 'string | null', mongoose: 'Date', sample: 'null' },
  { name: 'notes', type: 'string | null', mongoose: 'String', sample: 'null' },
  { name: 'priority', type: 'number', mongoose: 'Number', sample: '3' },
  { name: 'region', type: 'string', mongoose: 'String', sample: "'eu-west'" },
  { name: 'reference', type: 'string', mongoose: 'String', sample: "''" },
  { name: 'email', type: 'string', mongoose: 'String', sample: "''" },
  { name: 'tags', type: 'string[]', mongoose: '[String]', sample: '[]' },
  { name: 'active', type: 'boolean', mongoose: 'Boolean', sample: 'true' },
  { name: 'score', type: 'number', mongoose: 'Number', sample: '0' },
  { name: 'externalId', type: 'string | null', mongoose: 'String', sample: 'null' },
  { name: 'startsAt', type: 'string', mongoose: 'Date', sample: "''" },
];

/** Mean line counts per kind of module; helpers, services and utils carry most of the code, as in real apps. */
const TARGET_LINES = { model: 80, repository: 70, service: 130, controller: 95, helper: 120, util: 120 };

// ---- names -------------------------------------------------------------------------------------------------

const kebab = (camel) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const pascal = (camel) => camel[0].toUpperCase() + camel.slice(1);
const camelOf = (kebabName) => kebabName.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
function plural(word) {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}
const upperSnake = (name) => name.replace(/-/g, '_').replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Domains for a tree of `modules` modules: 20 at 1k, 30 at 2k, 53 at 5k, 80 at 10k (fewer for tiny trees). */
export function domainCountFor(modules) {
  return Math.max(2, Math.min(80, Math.round(20 * (modules / 1000) ** 0.6)));
}

// ---- the plan of the tree ----------------------------------------------------------------------------------

const CORE_FILES = [
  'src/server.ts', 'src/app.ts', 'src/config.ts', 'src/routes/api.ts', 'src/routes/admin.ts', 'src/routes/legacy.js',
  'src/db/database.ts', 'src/db/table.ts', 'src/middleware/authenticate.ts', 'src/middleware/require-role.ts',
  'src/middleware/error-handler.ts', 'src/middleware/request-logger.ts', 'src/middleware/validate.ts',
  'src/shared/logger.ts', 'src/shared/ids.ts', 'src/shared/errors.ts', 'src/shared/async-handler.ts', 'src/shared/pagination.ts', 'src/shared/index.ts',
];

function planTree(modules, seed) {
  const rng = new Rng(`${seed}:${modules}`);
  const utilCount = Math.max(2, Math.round(modules * 0.02));
  const remaining = modules - CORE_FILES.length - utilCount;
  const domainCount = Math.min(domainCountFor(modules), Math.floor(remaining / 8));
  if (domainCount < 2) throw new Error(`--modules ${modules} is too small: at least ${CORE_FILES.length + 2 + 16} modules are needed`);

  const utils = [];
  for (let i = 0; i < utilCount; i += 1) {
    const base = UTIL_NAMES[i % UTIL_NAMES.length];
    const name = i < UTIL_NAMES.length ? base : `${base}-${Math.floor(i / UTIL_NAMES.length) + 1}`;
    // One util in six is old CommonJS code under src/shared/legacy.
    const cjs = i % 6 === 5;
    utils.push({
      name,
      cjs,
      path: cjs ? `src/shared/legacy/${name}.js` : `src/shared/utils/${name}.ts`,
      fns: [`${camelOf(name.replace(/-\d+$/, ''))}Helper${i}`, `parse${pascal(camelOf(name.replace(/-\d+$/, '')))}${i}`, `format${pascal(camelOf(name.replace(/-\d+$/, '')))}${i}`],
    });
  }

  const picked = rng.sample(DOMAINS, domainCount).sort((a, b) => (a.folder < b.folder ? -1 : 1));
  const cjsCount = Math.max(1, Math.round(domainCount * 0.25));
  const cjsFolders = new Set(rng.sample(picked.map((d) => d.folder), cjsCount));
  const weights = picked.map(() => 0.4 + rng.next() * 1.6);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  // Largest-remainder split of the module budget, at least 8 modules per domain.
  const raw = weights.map((w) => 8 + ((remaining - 8 * domainCount) * w) / totalWeight);
  const budgets = raw.map(Math.floor);
  let left = remaining - budgets.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let i = 0; left > 0; i += 1, left -= 1) budgets[order[i % order.length][1]] += 1;

  const domains = picked.map((d, i) => {
    const cjs = cjsFolders.has(d.folder);
    const budget = budgets[i];
    const hasAdmin = !cjs && rng.chance(0.35);
    let entityCount = Math.max(1, Math.min(1 + SUB_ENTITIES.length, Math.round(budget / 9)));
    while (entityCount > 1 && 2 + 5 * entityCount + (hasAdmin ? 1 : 0) > budget) entityCount -= 1;
    const nouns = rng.sample(SUB_ENTITIES, entityCount - 1);
    const entities = [d.stem, ...nouns.map((n) => `${d.stem}${pascal(n)}`)].map((stem, index) => makeEntity(rng, stem, index === 0 ? null : nouns[index - 1]));
    const helperCount = budget - 2 - 5 * entityCount - (hasAdmin ? 1 : 0);
    const layered = !cjs && budget >= 40;
    const domain = {
      folder: d.folder,
      camel: camelOf(d.folder),
      cjs,
      layered,
      budget,
      hasAdmin,
      entities,
      helpers: [],
      routerName: `${camelOf(d.folder)}Router`,
      index: i,
    };
    for (let h = 0; h < helperCount; h += 1) {
      const entity = entities[h % entities.length];
      const round = Math.floor(h / entities.length);
      const kind = HELPER_KINDS[(round + entities.indexOf(entity)) % HELPER_KINDS.length];
      const suffix = round >= HELPER_KINDS.length ? `-${Math.floor(round / HELPER_KINDS.length) + 1}` : '';
      const file = `${entity.kebab}${suffix}.${kind}`;
      const timer = !cjs && kind === 'scheduler' && rng.chance(0.5);
      domain.helpers.push({ entity, kind, file, fns: [`${kind}${entity.Class}${suffix.replace('-', 'V')}`, `${kind}${entity.Class}${suffix.replace('-', 'V')}Many`], timer });
    }
    for (const entity of entities) {
      entity.domain = domain;
      entity.helpers = domain.helpers.filter((h) => h.entity === entity);
    }
    return domain;
  });

  // Cross-domain calls: mostly to nearby domains (so the tree has communities to find), some anywhere.
  for (const domain of domains) {
    for (const entity of domain.entities) {
      const count = Number(rng.weighted({ 0: 25, 1: 35, 2: 25, 3: 15 }));
      entity.calls = [];
      for (let c = 0; c < count; c += 1) {
        let j;
        if (rng.chance(0.75)) j = (domain.index + rng.pick([1, 2, 3, -1, -2, -3]) + domains.length * 3) % domains.length;
        else j = rng.int(0, domains.length - 1);
        if (j === domain.index) j = (j + 1) % domains.length;
        const target = domains[j];
        const targetEntity = rng.chance(0.6) ? target.entities[0] : rng.pick(target.entities);
        const fn = rng.chance(0.7) ? `get${targetEntity.Class}` : `${rng.pick(targetEntity.actions)}${targetEntity.Class}`;
        if (entity.calls.some((call) => call.fn === fn)) continue;
        entity.calls.push({ target: targetEntity, fn, style: rng.pick(['alias-barrel', 'relative-barrel', 'direct', 'direct']) });
      }
    }
  }
  return { rng, domains, utils, modules };
}

function makeEntity(rng, stem, noun) {
  const fieldCount = rng.int(4, 7);
  const fields = rng.sample(FIELDS, fieldCount).sort((a, b) => FIELDS.indexOf(a) - FIELDS.indexOf(b));
  const statuses = rng.sample(STATUSES, rng.int(3, 5)).sort((a, b) => STATUSES.indexOf(a) - STATUSES.indexOf(b));
  const actions = rng.sample(VERBS, rng.int(1, 3)).sort();
  const Class = pascal(stem);
  const Plural = Class.replace(/([A-Z][a-z]*)$/, (last) => pascal(plural(last.toLowerCase())));
  return {
    stem,
    camel: stem,
    Class,
    Plural,
    kebab: kebab(stem),
    segment: noun ? `/${plural(kebab(noun))}` : '/',
    fields,
    statuses,
    actions,
    cached: rng.chance(0.08),
    envFlag: rng.chance(0.1),
    routerName: `${stem}Router`,
  };
}

// ---- paths and specifiers ----------------------------------------------------------------------------------

function domainDir(domain) {
  return `src/domains/${domain.folder}`;
}

/** Where the file for one role of an entity lives. */
function entityFile(entity, role) {
  const domain = entity.domain;
  const ext = domain.cjs ? 'js' : 'ts';
  if (!domain.layered) return `${domainDir(domain)}/${entity.kebab}.${role}.${ext}`;
  const folder = { model: 'models', repository: 'repositories', service: 'services', controller: 'controllers', routes: 'routes' }[role];
  return `${domainDir(domain)}/${folder}/${entity.kebab}.${role}.${ext}`;
}

function helperFile(domain, helper) {
  const ext = domain.cjs ? 'js' : 'ts';
  return domain.layered ? `${domainDir(domain)}/helpers/${helper.file}.${ext}` : `${domainDir(domain)}/${helper.file}.${ext}`;
}

const domainRoutesFile = (domain) => `${domainDir(domain)}/${domain.folder}.routes.${domain.cjs ? 'js' : 'ts'}`;
const domainIndexFile = (domain) => `${domainDir(domain)}/index.${domain.cjs ? 'js' : 'ts'}`;
const adminRoutesFile = (domain) => `${domainDir(domain)}/${domain.folder}.admin.routes.ts`;

const ALIASES = [
  ['src/shared/index.ts', '@shared'],
  ['src/shared/', '@shared/'],
  ['src/db/', '@db/'],
  ['src/middleware/', '@middleware/'],
];

/**
 * The specifier `from` uses for `to`: relative (without extension, or with `.js` in modules written NodeNext
 * style), a tsconfig alias, or a folder for a barrel.
 */
function specifier(from, to, { alias = false, jsExt = false, folder = false } = {}) {
  const stripped = to.replace(/\.(ts|js)$/, '');
  if (alias) {
    const domainBarrel = /^src\/domains\/([^/]+)\/index\.ts$/.exec(to);
    if (domainBarrel) return `@domains/${domainBarrel[1]}`;
    for (const [prefix, name] of ALIASES) {
      if (to === prefix) return name;
      if (prefix.endsWith('/') && to.startsWith(prefix)) return `${name}${stripped.slice(prefix.length)}${jsExt ? '.js' : ''}`;
    }
  }
  const target = folder ? path.posix.dirname(to) : stripped;
  let rel = path.posix.relative(path.posix.dirname(from), target);
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return folder || !jsExt ? rel : `${rel}.js`;
}

// ---- import collection -------------------------------------------------------------------------------------

class Imports {
  constructor(module) {
    this.module = module;
    this.entries = new Map();
  }

  /** Named (or `type`) bindings from a file. */
  named(to, names, { alias, folder, type = false } = {}) {
    const spec = specifier(this.module.path, to, { alias: alias ?? this.module.alias, jsExt: this.module.jsExt, folder });
    const entry = this.entry(spec);
    for (const name of names) (type ? entry.types : entry.names).add(name);
    return spec;
  }

  namespace(to, local, options = {}) {
    const spec = specifier(this.module.path, to, { alias: options.alias ?? this.module.alias, jsExt: this.module.jsExt });
    this.entry(spec).namespace = local;
  }

  external(pkg, names, { defaultName, type = false } = {}) {
    const entry = this.entry(pkg);
    if (defaultName) entry.default = defaultName;
    for (const name of names ?? []) (type ? entry.types : entry.names).add(name);
  }

  entry(spec) {
    let entry = this.entries.get(spec);
    if (!entry) {
      entry = { names: new Set(), types: new Set(), namespace: null, default: null };
      this.entries.set(spec, entry);
    }
    return entry;
  }

  render() {
    const lines = [];
    const specs = [...this.entries.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const spec of specs) {
      const e = this.entries.get(spec);
      if (this.module.cjs) {
        if (e.default) lines.push(`const ${e.default} = require('${spec}');`);
        if (e.namespace) lines.push(`const ${e.namespace} = require('${spec}');`);
        if (e.names.size > 0) lines.push(`const { ${[...e.names].sort().join(', ')} } = require('${spec}');`);
        continue;
      }
      if (e.namespace) lines.push(`import * as ${e.namespace} from '${spec}';`);
      const parts = [...[...e.names].sort(), ...[...e.types].filter((n) => !e.names.has(n)).sort().map((n) => `type ${n}`)];
      const onlyTypes = e.names.size === 0 && e.types.size > 0 && !e.default;
      if (onlyTypes) {
        lines.push(`import type { ${[...e.types].sort().join(', ')} } from '${spec}';`);
      } else if (e.default && parts.length > 0) {
        lines.push(`import ${e.default}, { ${parts.join(', ')} } from '${spec}';`);
      } else if (e.default) {
        lines.push(`import ${e.default} from '${spec}';`);
      } else if (parts.length > 0) {
        lines.push(`import { ${parts.join(', ')} } from '${spec}';`);
      }
    }
    return lines;
  }
}

/** Packages first, then aliases, then relative paths, as most import sorters do. */
function rank(spec) {
  if (spec.startsWith('.')) return 2;
  if (spec.startsWith('@shared') || spec.startsWith('@db') || spec.startsWith('@middleware') || spec.startsWith('@domains')) return 1;
  return 0;
}

// ---- module renderers --------------------------------------------------------------------------------------

function newModule(rng, filePath, { alias = null } = {}) {
  const cjs = filePath.endsWith('.js');
  return {
    path: filePath,
    cjs,
    ts: !cjs,
    // Newer TypeScript modules spell `.js` extensions (NodeNext style); older ones do not.
    jsExt: !cjs && rng.chance(0.3),
    alias: alias ?? (!cjs && rng.chance(0.6)),
  };
}

function fillerContext(module, entity) {
  return { ts: module.ts, entity, used: new Set() };
}

function fieldType(field) {
  return field.type;
}

function renderModel(rng, entity) {
  const m = newModule(rng, entityFile(entity, 'model'));
  const { Class, fields, statuses } = entity;
  const STATUS = `${upperSnake(entity.stem)}_STATUSES`;
  const lines = [];
  if (m.ts) {
    lines.push(`export const ${STATUS} = [${statuses.map((s) => `'${s}'`).join(', ')}] as const;`);
    lines.push(`export type ${Class}Status = (typeof ${STATUS})[number];`, '');
    lines.push(`export interface ${Class} {`, '  id: string;', `  status: ${Class}Status;`);
    for (const f of fields) lines.push(`  ${f.name}: ${fieldType(f)};`);
    lines.push('  createdAt: string;', '  updatedAt: string;', '}', '');
    lines.push(`export type ${Class}Input = Partial<Omit<${Class}, 'id' | 'createdAt' | 'updatedAt'>>;`, '');
    lines.push(`export const ${upperSnake(entity.stem)}_DEFAULTS: Omit<${Class}, 'id' | 'createdAt' | 'updatedAt'> = {`);
    lines.push(`  status: '${statuses[0]}',`);
    for (const f of fields) lines.push(`  ${f.name}: ${f.sample},`);
    lines.push('};', '');
    lines.push(`export function is${Class}Status(value: unknown): value is ${Class}Status {`);
    lines.push(`  return typeof value === 'string' && (${STATUS} as readonly string[]).includes(value);`, '}', '');
    lines.push(`/** Checks a request body for a ${entity.camel}; returns the problems, empty when valid. */`);
    lines.push(`export function validate${Class}Input(input: ${Class}Input): string[] {`);
    lines.push('  const problems: string[] = [];');
    lines.push(`  if (input.status !== undefined && !is${Class}Status(input.status)) problems.push(\`status must be one of \${${STATUS}.join(', ')}\`);`);
    for (const f of fields) lines.push(...validationLines(f, true));
    lines.push('  return problems;', '}', '');
    lines.push(`export function to${Class}Response(row: ${Class}): Record<string, unknown> {`);
    lines.push('  return {', '    id: row.id,', '    status: row.status,');
    for (const f of fields.slice(0, 4)) lines.push(`    ${f.name}: row.${f.name},`);
    lines.push('    createdAt: row.createdAt,', '    updatedAt: row.updatedAt,', '  };', '}');
    padWithFillers(rng, fillerContext(m, entity), lines, rng.around(TARGET_LINES.model));
    return { ...m, text: lines };
  }
  const imports = new Imports(m);
  imports.external('mongoose', [], { defaultName: 'mongoose' });
  lines.push(`const ${STATUS} = [${statuses.map((s) => `'${s}'`).join(', ')}];`, '');
  lines.push(`const ${entity.camel}Schema = new mongoose.Schema(`, '  {');
  lines.push(`    status: { type: String, enum: ${STATUS}, default: '${statuses[0]}', index: true },`);
  for (const f of fields) lines.push(`    ${f.name}: { type: ${f.mongoose}${f.type.includes('null') ? ', default: null' : `, default: ${f.sample}`} },`);
  lines.push('  },', '  { timestamps: true },', ');', '');
  lines.push(`${entity.camel}Schema.index({ status: 1, updatedAt: -1 });`, '');
  lines.push(`function validate${Class}Input(input) {`, '  const problems = [];');
  lines.push(`  if (input.status !== undefined && !${STATUS}.includes(input.status)) problems.push(\`status must be one of \${${STATUS}.join(', ')}\`);`);
  for (const f of fields) lines.push(...validationLines(f, false));
  lines.push('  return problems;', '}');
  const body = [...lines];
  padWithFillers(rng, fillerContext(m, entity), body, rng.around(TARGET_LINES.model) - 6);
  body.push('', `const ${Class} = mongoose.model('${Class}', ${entity.camel}Schema);`, '');
  body.push(`module.exports = ${Class};`, `module.exports.${STATUS} = ${STATUS};`, `module.exports.validate${Class}Input = validate${Class}Input;`);
  return { ...m, text: ["'use strict';", '', ...imports.render(), '', ...body] };
}

function validationLines(field, ts) {
  const v = `input.${field.name}`;
  switch (field.type) {
    case 'number':
      return [`  if (${v} !== undefined && (typeof ${v} !== 'number' || !Number.isFinite(${v}) || ${v} < 0)) problems.push('${field.name} must be a number of at least 0');`];
    case 'string':
      return [`  if (${v} !== undefined && (typeof ${v} !== 'string' || ${v}.length > 200)) problems.push('${field.name} must be a string of at most 200 characters');`];
    case 'string | null':
      return [`  if (${v} !== undefined && ${v} !== null && typeof ${v} !== 'string') problems.push('${field.name} must be a string or null');`];
    case 'string[]':
      return [`  if (${v} !== undefined && (!Array.isArray(${v}) || ${v}.some((x${ts ? ': unknown' : ''}) => typeof x !== 'string'))) problems.push('${field.name} must be a list of strings');`];
    default:
      return [`  if (${v} !== undefined && typeof ${v} !== 'boolean') problems.push('${field.name} must be true or false');`];
  }
}

function renderRepository(rng, entity) {
  const m = newModule(rng, entityFile(entity, 'repository'));
  const { Class, Plural } = entity;
  const table = `${entity.domain.folder.replace(/-/g, '_')}_${plural(kebab(entity.stem).replace(/-/g, '_'))}`;
  const imports = new Imports(m);
  const lines = [];
  if (m.ts) {
    imports.named('src/db/database.ts', ['db']);
    imports.named(entityFile(entity, 'model'), [Class], { type: true });
    lines.push(`export const ${entity.camel}Table = db.table<${Class}>('${table}');`, '');
    lines.push(`export async function find${Class}ById(id: string): Promise<${Class} | undefined> {`, `  return ${entity.camel}Table.findById(id);`, '}', '');
    lines.push(`export async function find${Plural}(filter: Partial<${Class}> = {}): Promise<${Class}[]> {`);
    lines.push(`  const rows = await ${entity.camel}Table.findAll(filter);`);
    lines.push('  return rows.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id));', '}', '');
    lines.push(`export async function count${Plural}(filter: Partial<${Class}> = {}): Promise<number> {`, `  return ${entity.camel}Table.count(filter);`, '}', '');
    lines.push(`export async function insert${Class}(row: ${Class}): Promise<${Class}> {`, `  return ${entity.camel}Table.insert(row);`, '}', '');
    lines.push(`export async function update${Class}Row(id: string, patch: Partial<Omit<${Class}, 'id'>>): Promise<${Class} | undefined> {`);
    lines.push(`  return ${entity.camel}Table.update(id, { ...patch, updatedAt: new Date().toISOString() });`, '}', '');
    lines.push(`export async function delete${Class}Row(id: string): Promise<boolean> {`, `  return ${entity.camel}Table.remove(id);`, '}');
    padWithFillers(rng, fillerContext(m, entity), lines, rng.around(TARGET_LINES.repository) - imports.entries.size - 1);
    return { ...m, text: [...imports.render(), '', ...lines] };
  }
  imports.entry(specifier(m.path, entityFile(entity, 'model'))).default = Class;
  lines.push(`async function find${Class}ById(id) {`, `  return ${Class}.findById(id).lean();`, '}', '');
  lines.push(`async function find${Plural}(filter = {}, { skip = 0, limit = 50 } = {}) {`);
  lines.push(`  return ${Class}.find(filter).sort({ updatedAt: -1 }).skip(skip).limit(limit).lean();`, '}', '');
  lines.push(`async function count${Plural}(filter = {}) {`, `  return ${Class}.countDocuments(filter);`, '}', '');
  lines.push(`async function insert${Class}(row) {`, `  const created = await ${Class}.create(row);`, '  return created.toObject();', '}', '');
  lines.push(`async function update${Class}Row(id, patch) {`, `  return ${Class}.findByIdAndUpdate(id, patch, { new: true }).lean();`, '}', '');
  lines.push(`async function delete${Class}Row(id) {`, `  const removed = await ${Class}.findByIdAndDelete(id);`, '  return removed !== null;', '}');
  padWithFillers(rng, fillerContext(m, entity), lines, rng.around(TARGET_LINES.repository) - 12);
  lines.push('', 'module.exports = {');
  for (const fn of [`find${Class}ById`, `find${Plural}`, `count${Plural}`, `insert${Class}`, `update${Class}Row`, `delete${Class}Row`]) lines.push(`  ${fn},`);
  lines.push('};');
  return { ...m, text: ["'use strict';", '', ...imports.render(), '', ...lines] };
}

/** The functions a service exports: CRUD plus the entity's actions. */
function serviceFunctions(entity) {
  return [`get${entity.Class}`, `list${entity.Plural}`, `create${entity.Class}`, `update${entity.Class}`, `remove${entity.Class}`, ...entity.actions.map((a) => `${a}${entity.Class}`)];
}

function importCall(imports, module, call) {
  const target = call.target.domain;
  const fromDomain = module.path.startsWith(`${domainDir(target)}/`);
  if (fromDomain) return imports.named(entityFile(call.target, 'service'), [call.fn], { alias: false });
  if (call.style === 'direct' || (module.cjs && call.style === 'alias-barrel')) return imports.named(entityFile(call.target, 'service'), [call.fn], { alias: false });
  if (call.style === 'alias-barrel' && !target.cjs && module.ts) return imports.named(domainIndexFile(target), [call.fn], { alias: true });
  return imports.named(domainIndexFile(target), [call.fn], { alias: false, folder: true });
}

function renderService(rng, entity, utils) {
  const m = newModule(rng, entityFile(entity, 'service'));
  const { Class, Plural, camel } = entity;
  const imports = new Imports(m);
  const repo = `${camel}Repository`;
  const lines = [];
  const ts = m.ts;
  const T = (type) => (ts ? `: ${type}` : '');
  imports.namespace(entityFile(entity, 'repository'), repo, { alias: false });
  imports.named('src/shared/logger.ts', ['logger'], { alias: ts ? undefined : false });
  imports.named('src/shared/errors.ts', ['NotFoundError', 'ValidationError'], { alias: ts ? undefined : false });
  if (ts) {
    imports.named(entityFile(entity, 'model'), [`validate${Class}Input`, `${upperSnake(entity.stem)}_DEFAULTS`], { alias: false });
    imports.named(entityFile(entity, 'model'), [Class, `${Class}Input`], { alias: false, type: true });
    imports.named('src/shared/pagination.ts', ['paginate'], {});
    imports.named('src/shared/pagination.ts', ['Page', 'PageRequest'], { type: true });
    imports.named('src/shared/ids.ts', ['newId'], {});
  } else {
    imports.entry(specifier(m.path, entityFile(entity, 'model'))).names.add(`validate${Class}Input`);
    imports.named('src/shared/pagination.ts', ['paginate'], { alias: false });
  }
  const usedUtils = rng.sample(utils, rng.int(1, 2));
  for (const util of usedUtils) imports.named(util.path, [util.fns[0]], { alias: util.cjs ? false : undefined });
  for (const helper of entity.helpers.slice(0, 3)) imports.named(helperFile(entity.domain, helper), [helper.fns[0]], { alias: false });
  for (const call of entity.calls) importCall(imports, m, call);

  lines.push(`const log = logger.child({ module: '${entity.domain.folder}/${entity.kebab}.service' });`);
  if (entity.envFlag) lines.push(`const FAST_PATH = process.env.${upperSnake(entity.domain.folder)}_${upperSnake(entity.stem)}_FAST_PATH === 'true';`);
  if (entity.cached) lines.push(`const ${camel}Cache = new Map${ts ? `<string, ${Class}>` : ''}();`);
  lines.push('');

  const exported = (signature) => (ts ? `export async function ${signature}` : `async function ${signature}`);
  lines.push(`${exported(`get${Class}(id${T('string')})${T(`Promise<${Class}>`)}`)} {`);
  if (entity.cached) lines.push(`  const cached = ${camel}Cache.get(id);`, '  if (cached) return cached;');
  lines.push(`  const row = await ${repo}.find${Class}ById(id);`, `  if (!row) throw new NotFoundError('${Class}', id);`);
  if (entity.cached) lines.push(`  ${camel}Cache.set(id, row);`);
  lines.push('  return row;', '}', '');

  lines.push(`${exported(`list${Plural}(query${T(`PageRequest & { status?: string }`)})${T(`Promise<Page<${Class}>>`)}`)} {`);
  lines.push(`  const filter${T(`Partial<${Class}>`)} = {};`);
  lines.push(`  if (query.status) filter.status = query.status${ts ? ` as ${Class}['status']` : ''};`);
  lines.push(`  const rows = await ${repo}.find${Plural}(filter);`);
  if (entity.envFlag) lines.push(`  if (FAST_PATH) log.debug('fast path', { count: rows.length });`);
  lines.push('  return paginate(rows, query);', '}', '');

  lines.push(`${exported(`create${Class}(input${T(`${Class}Input`)}, actorId${T('string')})${T(`Promise<${Class}>`)}`)} {`);
  lines.push(`  const problems = validate${Class}Input(input);`, `  if (problems.length > 0) throw new ValidationError(problems);`);
  const firstCall = entity.calls[0];
  if (firstCall) {
    lines.push(`  // Ask ${firstCall.target.domain.folder} first: the ${camel} must not point at a missing ${firstCall.target.camel}.`);
    lines.push(`  await ${firstCall.fn}(String(input.${entity.fields.find((f) => f.name.endsWith('Id'))?.name ?? 'reference'} ?? actorId)${firstCall.fn.startsWith('get') ? '' : ', actorId'});`);
  }
  lines.push('  const now = new Date().toISOString();');
  if (ts) {
    lines.push(`  const row: ${Class} = { ...${upperSnake(entity.stem)}_DEFAULTS, ...input, id: newId(), createdAt: now, updatedAt: now };`);
  } else {
    lines.push('  const row = { ...input, createdAt: now, updatedAt: now };');
  }
  lines.push(`  const created = await ${repo}.insert${Class}(row);`);
  for (const helper of entity.helpers.slice(0, 3)) lines.push(`  ${helper.fns[0]}(created);`);
  for (const util of usedUtils) lines.push(`  ${util.fns[0]}(created.id);`);
  lines.push(`  log.info('${camel} created', { id: created.id, by: actorId });`, '  return created;', '}', '');

  lines.push(`${exported(`update${Class}(id${T('string')}, patch${T(`${Class}Input`)}, actorId${T('string')})${T(`Promise<${Class}>`)}`)} {`);
  lines.push(`  const problems = validate${Class}Input(patch);`, '  if (problems.length > 0) throw new ValidationError(problems);');
  lines.push(`  await get${Class}(id);`, `  const updated = await ${repo}.update${Class}Row(id, patch);`, `  if (!updated) throw new NotFoundError('${Class}', id);`);
  if (entity.cached) lines.push(`  ${camel}Cache.delete(id);`);
  lines.push(`  log.info('${camel} updated', { id, by: actorId, fields: Object.keys(patch) });`, '  return updated;', '}', '');

  lines.push(`${exported(`remove${Class}(id${T('string')}, actorId${T('string')})${T('Promise<void>')}`)} {`);
  lines.push(`  const removed = await ${repo}.delete${Class}Row(id);`, `  if (!removed) throw new NotFoundError('${Class}', id);`);
  if (entity.cached) lines.push(`  ${camel}Cache.delete(id);`);
  lines.push(`  log.info('${camel} removed', { id, by: actorId });`, '}');

  entity.actions.forEach((action, a) => {
    const next = entity.statuses[Math.min(entity.statuses.length - 1, a + 1)];
    lines.push('', `/** ${pascal(action)} the ${camel}: moves it to "${next}" and tells the parts of the system that care. */`);
    lines.push(`${exported(`${action}${Class}(id${T('string')}, actorId${T('string')})${T(`Promise<${Class}>`)}`)} {`);
    lines.push(`  const current = await get${Class}(id);`);
    lines.push(`  if (current.status === '${next}') return current;`);
    const helper = entity.helpers[a % Math.max(1, entity.helpers.length)];
    if (helper && entity.helpers.indexOf(helper) < 3) lines.push(`  ${helper.fns[0]}(current);`);
    for (const call of entity.calls.slice(1 + a, 2 + a)) {
      lines.push(`  await ${call.fn}(current.id${call.fn.startsWith('get') ? '' : ', actorId'});`);
    }
    lines.push(`  ${usedUtils[a % usedUtils.length].fns[0]}(current);`);
    lines.push(`  const updated = await ${repo}.update${Class}Row(id, { status: '${next}' });`);
    lines.push(`  if (!updated) throw new NotFoundError('${Class}', id);`);
    lines.push(`  log.info('${camel} ${action}', { id, by: actorId });`, '  return updated;', '}');
  });
  // Calls not placed yet go into a reconciliation function, as real services accumulate them.
  const rest = entity.calls.slice(1 + entity.actions.length);
  if (rest.length > 0) {
    lines.push('', `${exported(`reconcile${Class}(id${T('string')}, actorId${T('string')})${T('Promise<void>')}`)} {`, `  const current = await get${Class}(id);`);
    for (const call of rest) lines.push(`  await ${call.fn}(current.id${call.fn.startsWith('get') ? '' : ', actorId'});`);
    lines.push('}');
  }
  const body = [...lines];
  padWithFillers(rng, fillerContext(m, entity), body, rng.around(TARGET_LINES.service) - imports.entries.size - 1);
  if (m.cjs) {
    body.push('', 'module.exports = {');
    for (const fn of serviceFunctions(entity)) body.push(`  ${fn},`);
    if (rest.length > 0) body.push(`  reconcile${Class},`);
    body.push('};');
    return { ...m, text: ["'use strict';", '', ...imports.render(), '', ...body] };
  }
  return { ...m, text: [...imports.render(), '', ...body] };
}

function renderController(rng, entity) {
  const m = newModule(rng, entityFile(entity, 'controller'));
  const { Class, Plural } = entity;
  const imports = new Imports(m);
  const ts = m.ts;
  const service = `${entity.camel}Service`;
  if (ts && rng.chance(0.35)) {
    // Through the shared barrel (`@shared` or a relative folder import).
    imports.named('src/shared/index.ts', ['asyncHandler', 'parsePageRequest'], { alias: rng.chance(0.7), folder: true });
  } else {
    imports.named('src/shared/async-handler.ts', ['asyncHandler'], { alias: ts ? undefined : false });
    imports.named('src/shared/pagination.ts', ['parsePageRequest'], { alias: ts ? undefined : false });
  }
  imports.named('src/middleware/authenticate.ts', ['currentUser'], { alias: ts ? undefined : false });
  imports.namespace(entityFile(entity, 'service'), service, { alias: false });
  if (ts) imports.external('express', ['Request', 'Response'], { type: true });
  const call = (fn) => `${service}.${fn}`;
  const handler = (name, body) => {
    const params = ts ? '(req: Request, res: Response)' : '(req, res)';
    return [ts ? `export const ${name} = asyncHandler(async ${params} => {` : `exports.${name} = asyncHandler(async ${params} => {`, ...body, '});', ''];
  };
  const idParam = ts ? 'String(req.params.id)' : 'req.params.id';
  const lines = [];
  lines.push(...handler(`list${Plural}`, [
    '  const page = parsePageRequest(req.query);',
    `  const status = typeof req.query.status === 'string' ? req.query.status : undefined;`,
    `  res.json(await ${call(`list${Plural}`)}({ ...page, status }));`,
  ]));
  lines.push(...handler(`get${Class}`, [`  res.json(await ${call(`get${Class}`)}(${idParam}));`]));
  lines.push(...handler(`create${Class}`, [
    '  const user = currentUser(req);',
    `  const created = await ${call(`create${Class}`)}(req.body${ts ? ` as ${entity.Class}Input` : ''}, user.id);`,
    `  res.status(201).location(\`\${req.baseUrl}/\${created.id}\`).json(created);`,
  ]));
  if (ts) imports.named(entityFile(entity, 'model'), [`${entity.Class}Input`], { alias: false, type: true });
  lines.push(...handler(`update${Class}`, [
    '  const user = currentUser(req);',
    `  res.json(await ${call(`update${Class}`)}(${idParam}, req.body${ts ? ` as ${entity.Class}Input` : ''}, user.id));`,
  ]));
  lines.push(...handler(`remove${Class}`, [`  await ${call(`remove${Class}`)}(${idParam}, currentUser(req).id);`, '  res.status(204).end();']));
  for (const action of entity.actions) {
    lines.push(...handler(`${action}${Class}`, [
      '  const user = currentUser(req);',
      `  const result = await ${call(`${action}${Class}`)}(${idParam}, user.id);`,
      `  res.json({ ${entity.camel}: result, ${action}d: true });`,
    ]));
  }
  lines.pop();
  padWithFillers(rng, fillerContext(m, entity), lines, rng.around(TARGET_LINES.controller) - imports.entries.size - 1);
  return { ...m, text: [...(m.cjs ? ["'use strict';", ''] : []), ...imports.render(), '', ...lines] };
}

/** Route registrations of one entity: [method, path, middleware[], handler]. */
function entityRoutes(entity) {
  const routes = [
    ['get', '/', [], `list${entity.Plural}`],
    ['post', '/', ['authenticate', 'body'], `create${entity.Class}`],
    ['get', '/:id', [], `get${entity.Class}`],
    ['put', '/:id', ['authenticate', 'body'], `update${entity.Class}`],
    ['delete', '/:id', ['authenticate', 'admin'], `remove${entity.Class}`],
  ];
  for (const action of entity.actions) routes.push(['post', `/:id/${action}`, ['authenticate'], `${action}${entity.Class}`]);
  return routes;
}

function renderEntityRouter(rng, entity) {
  const m = newModule(rng, entityFile(entity, 'routes'));
  const imports = new Imports(m);
  const controller = `${entity.camel}Controller`;
  const required = entity.fields.filter((f) => f.type === 'string').slice(0, 2).map((f) => `'${f.name}'`).join(', ');
  const lines = [];
  const mw = (names) => names.map((n) => (n === 'body' ? `validateBody([${required}])` : n === 'admin' ? "requireRole('admin')" : n));
  imports.namespace(entityFile(entity, 'controller'), controller, { alias: false });
  imports.named('src/middleware/authenticate.ts', ['authenticate'], { alias: m.ts ? undefined : false });
  imports.named('src/middleware/require-role.ts', ['requireRole'], { alias: m.ts ? undefined : false });
  imports.named('src/middleware/validate.ts', ['validateBody'], { alias: m.ts ? undefined : false });
  const router = m.ts ? entity.routerName : 'router';
  if (m.ts) {
    imports.external('express', ['Router']);
    lines.push(`export const ${router} = Router();`, '');
  } else {
    imports.external('express', [], { defaultName: 'express' });
    lines.push(`const ${router} = express.Router();`, '');
  }
  const routes = entityRoutes(entity);
  const useChain = rng.chance(0.4);
  for (const [method, routePath, middleware, handler] of routes) {
    if (useChain && routePath === '/:id') continue;
    lines.push(`${router}.${method}('${routePath}', ${[...mw(middleware), `${controller}.${handler}`].join(', ')});`);
  }
  if (useChain) {
    lines.push(`${router}`, "  .route('/:id')");
    for (const [method, routePath, middleware, handler] of routes) {
      if (routePath === '/:id') lines.push(`  .${method}(${[...mw(middleware), `${controller}.${handler}`].join(', ')})`);
    }
    lines[lines.length - 1] += ';';
  }
  if (m.cjs) lines.push('', `module.exports = ${router};`);
  else if (rng.chance(0.3)) lines.push('', `export default ${router};`);
  return { ...m, text: [...(m.cjs ? ["'use strict';", ''] : []), ...imports.render(), '', ...lines] };
}

function renderDomainRouter(rng, domain) {
  const m = newModule(rng, domainRoutesFile(domain));
  const imports = new Imports(m);
  const lines = [];
  imports.named('src/middleware/request-logger.ts', ['tagRequests'], { alias: m.ts ? undefined : false });
  const ordered = [...domain.entities.slice(1), domain.entities[0]];
  if (m.ts) {
    imports.external('express', ['Router']);
    for (const entity of ordered) imports.named(entityFile(entity, 'routes'), [entity.routerName], { alias: false });
    lines.push(`export const ${domain.routerName} = Router();`, '', `${domain.routerName}.use(tagRequests('${domain.folder}'));`);
    for (const entity of ordered) lines.push(`${domain.routerName}.use('${entity.segment}', ${entity.routerName});`);
    return { ...m, text: [...imports.render(), '', ...lines] };
  }
  imports.external('express', [], { defaultName: 'express' });
  lines.push('const router = express.Router();', '', `router.use(tagRequests('${domain.folder}'));`);
  for (const entity of ordered) lines.push(`router.use('${entity.segment}', require('${specifier(m.path, entityFile(entity, 'routes'))}'));`);
  lines.push('', 'module.exports = router;');
  return { ...m, text: ["'use strict';", '', ...imports.render(), '', ...lines] };
}

function renderAdminRouter(rng, domain) {
  const m = newModule(rng, adminRoutesFile(domain));
  const imports = new Imports(m);
  const entity = domain.entities[0];
  const name = `${domain.camel}AdminRouter`;
  imports.external('express', ['Router']);
  imports.named(entityFile(entity, 'service'), [`list${entity.Plural}`, `remove${entity.Class}`], { alias: false });
  imports.named('src/shared/async-handler.ts', ['asyncHandler']);
  imports.named('src/shared/pagination.ts', ['parsePageRequest']);
  const lines = [
    `export const ${name} = Router();`, '',
    `${name}.get('/${plural(entity.kebab)}', asyncHandler(async (req, res) => {`,
    `  res.json(await list${entity.Plural}({ ...parsePageRequest(req.query), status: undefined }));`,
    '}));', '',
    `${name}.delete('/${plural(entity.kebab)}/:id', asyncHandler(async (req, res) => {`,
    `  await remove${entity.Class}(String(req.params.id), 'admin');`,
    '  res.status(204).end();',
    '}));',
  ];
  return { ...m, text: [...imports.render(), '', ...lines] };
}

function renderDomainIndex(rng, domain) {
  const m = newModule(rng, domainIndexFile(domain));
  if (m.ts) {
    const lines = [`// Public surface of the ${domain.folder} domain: other domains import from here.`];
    for (const entity of domain.entities) lines.push(`export * from '${specifier(m.path, entityFile(entity, 'service'), { jsExt: m.jsExt })}';`);
    for (const entity of domain.entities) lines.push(`export type { ${entity.Class} } from '${specifier(m.path, entityFile(entity, 'model'), { jsExt: m.jsExt })}';`);
    lines.push(`export { ${domain.routerName} } from '${specifier(m.path, domainRoutesFile(domain), { jsExt: m.jsExt })}';`);
    return { ...m, text: lines };
  }
  const lines = ["'use strict';", '', `// Public surface of the ${domain.folder} domain.`];
  for (const entity of domain.entities) lines.push(`const ${entity.camel}Service = require('${specifier(m.path, entityFile(entity, 'service'))}');`);
  lines.push('', 'module.exports = {', `  ${domain.routerName}: require('${specifier(m.path, domainRoutesFile(domain))}'),`);
  for (const entity of domain.entities) {
    for (const fn of serviceFunctions(entity)) lines.push(`  ${fn}: ${entity.camel}Service.${fn},`);
  }
  lines.push('};');
  return { ...m, text: lines };
}

function renderHelper(rng, domain, helper, utils) {
  const m = newModule(rng, helperFile(domain, helper));
  const imports = new Imports(m);
  const { entity } = helper;
  const ts = m.ts;
  const T = (type) => (ts ? `: ${type}` : '');
  const [one, many] = helper.fns;
  const util = rng.pick(utils);
  imports.named(util.path, [util.fns[1]], { alias: util.cjs || m.cjs ? false : undefined });
  if (ts) imports.named(entityFile(entity, 'model'), [entity.Class], { alias: false, type: true });
  const lines = [];
  if (helper.timer) {
    imports.named('src/shared/logger.ts', ['logger']);
    lines.push(`// Runs in every replica: fine while the app is a single process.`);
    lines.push(`setInterval(() => logger.debug('${domain.folder} ${helper.kind} tick'), ${rng.pick([30_000, 60_000, 300_000])}).unref();`, '');
  }
  const rowType = ts ? `Pick<${entity.Class}, 'id' | 'status'> & Partial<${entity.Class}>` : '';
  lines.push(`/** ${pascal(helper.kind)} for ${plural(entity.camel)}: ${rng.pick(['kept apart from the service so it can be tested alone', 'shared by the service and the admin screens', 'the rules the business team asked for'])}. */`);
  lines.push(`${ts ? 'export ' : ''}function ${one}(row${T(rowType)})${T('{ ok: boolean; reasons: string[] }')} {`);
  lines.push(`  const reasons${T('string[]')} = [];`);
  lines.push(`  if (row.status === '${entity.statuses.at(-1)}') reasons.push('${entity.camel} is ${entity.statuses.at(-1)}');`);
  for (const f of entity.fields.slice(0, 3)) {
    if (f.type === 'number') lines.push(`  if ((row.${f.name} ?? 0) > ${rng.pick([100, 1000, 10_000, 1_000_000])}) reasons.push('${f.name} above the limit');`);
    else if (f.type === 'boolean') lines.push(`  if (row.${f.name} === false) reasons.push('${f.name} is off');`);
    else lines.push(`  if (!row.${f.name}) reasons.push('${f.name} is missing');`);
  }
  lines.push(`  ${util.fns[1]}(String(row.id));`);
  lines.push('  return { ok: reasons.length === 0, reasons };', '}', '');
  lines.push(`${ts ? 'export ' : ''}function ${many}(rows${T(`Array<${rowType}>`)})${T('Map<string, string[]>')} {`);
  lines.push(`  const out = new Map${ts ? '<string, string[]>' : ''}();`);
  lines.push('  for (const row of rows) {', `    const result = ${one}(row);`, '    if (!result.ok) out.set(row.id, result.reasons);', '  }', '  return out;', '}');
  padWithFillers(rng, fillerContext(m, entity), lines, rng.around(TARGET_LINES.helper) - imports.entries.size - 1);
  if (m.cjs) lines.push('', `module.exports = { ${one}, ${many} };`);
  return { ...m, text: [...(m.cjs ? ["'use strict';", ''] : []), ...imports.render(), '', ...lines] };
}

function renderUtil(rng, util) {
  const m = newModule(rng, util.path);
  const ts = m.ts;
  const T = (type) => (ts ? `: ${type}` : '');
  const ex = ts ? 'export ' : '';
  const [helperFn, parseFn, formatFn] = util.fns;
  const lines = [];
  lines.push(`/** Shared ${util.name.replace(/-\d+$/, '')} helper used across domains. */`);
  lines.push(`${ex}function ${helperFn}(value${T('unknown')})${T('string')} {`);
  lines.push("  if (value === null || value === undefined) return '';");
  lines.push("  if (typeof value === 'string') return value;");
  lines.push("  if (typeof value === 'object') return JSON.stringify(value);");
  lines.push('  return String(value);', '}', '');
  lines.push(`${ex}function ${parseFn}(text${T('string')})${T('{ value: string; parts: string[] }')} {`);
  lines.push(`  const parts = text.split(/[\\s,;]+/).filter(Boolean);`);
  lines.push("  return { value: parts.join(' '), parts };", '}', '');
  lines.push(`${ex}function ${formatFn}(parts${T('string[]')}, separator = '${rng.pick([', ', ' / ', ' · ', '-'])}')${T('string')} {`);
  lines.push('  return parts.map((p) => p.trim()).filter(Boolean).join(separator);', '}');
  const pseudo = { Class: pascal(camelOf(util.name.replace(/-\d+$/, ''))), camel: camelOf(util.name), statuses: ['active', 'archived'], fields: [FIELDS[0], FIELDS[7]] };
  padWithFillers(rng, { ts, entity: pseudo, used: new Set() }, lines, rng.around(TARGET_LINES.util));
  if (m.cjs) lines.push('', `module.exports = { ${helperFn}, ${parseFn}, ${formatFn} };`);
  return { ...m, text: [...(m.cjs ? ["'use strict';", ''] : []), ...lines] };
}

// ---- core modules ------------------------------------------------------------------------------------------

function coreModules(domains, utils) {
  const files = {};
  const tsDomains = domains.filter((d) => !d.cjs);
  const cjsDomains = domains.filter((d) => d.cjs);

  files['src/server.ts'] = `import { app } from './app';
import { config } from './config';
import { logger } from '@shared/logger';

const server = app.listen(config.port, () => {
  logger.info('listening', { port: config.port, env: config.env });
});

process.on('SIGTERM', () => {
  logger.info('shutting down');
  server.close(() => process.exit(0));
});
`;

  files['src/app.ts'] = `import express from 'express';
import { config } from './config';
import { authenticate } from '@middleware/authenticate';
import { errorHandler, notFound } from '@middleware/error-handler';
import { requestLogger } from '@middleware/request-logger';
import { requireRole } from '@middleware/require-role';
import { adminRouter } from './routes/admin';
import { api } from './routes/api';

export const app = express();

app.disable('x-powered-by');
app.set('trust proxy', config.trustProxy);
app.use(requestLogger);
app.use(express.json({ limit: config.bodyLimit }));

app.get('/health', (_req, res) => {
  res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
});

app.use('/api', api);
app.use('/admin', authenticate, requireRole('admin'), adminRouter);

app.use(notFound);
app.use(errorHandler);

export default app;
`;

  const envLines = domains.map((d) => `    ${d.camel}: Number(process.env.${upperSnake(d.folder)}_TIMEOUT_MS ?? 5000),`);
  files['src/config.ts'] = `// Every setting comes from the environment (12-factor); defaults suit local development.
export const config = {
  env: process.env.NODE_ENV ?? 'development',
  port: Number(process.env.PORT ?? 3000),
  trustProxy: process.env.TRUST_PROXY === 'true',
  bodyLimit: process.env.BODY_LIMIT ?? '1mb',
  databaseUrl: process.env.DATABASE_URL ?? 'mongodb://localhost:27017/app',
  jwtSecret: process.env.JWT_SECRET ?? 'dev-only-secret',
  logLevel: process.env.LOG_LEVEL ?? 'info',
  timeouts: {
${envLines.join('\n')}
  },
};

export type Config = typeof config;
`;

  const apiImports = [];
  const apiMounts = [];
  tsDomains.forEach((d, i) => {
    const style = i % 3;
    if (style === 0) apiImports.push(`import { ${d.routerName} } from '@domains/${d.folder}';`);
    else if (style === 1) apiImports.push(`import { ${d.routerName} } from '${specifier('src/routes/api.ts', domainIndexFile(d), { folder: true })}';`);
    else apiImports.push(`import { ${d.routerName} } from '${specifier('src/routes/api.ts', domainRoutesFile(d))}';`);
    apiMounts.push(i % 4 === 3 ? `api.use('/${d.folder}', authenticate, ${d.routerName});` : `api.use('/${d.folder}', ${d.routerName});`);
  });
  files['src/routes/api.ts'] = `import { Router } from 'express';
import { authenticate } from '@middleware/authenticate';
${apiImports.join('\n')}
import { mountLegacyRoutes } from './legacy';

export const api = Router();

${apiMounts.join('\n')}

// The CommonJS domains predate the TypeScript migration and are still mounted by the old helper.
mountLegacyRoutes(api);
`;

  files['src/routes/legacy.js'] = `'use strict';

/** Mounts the routers of the domains that are still CommonJS. */
function mountLegacyRoutes(router) {
${cjsDomains.map((d) => `  router.use('/${d.folder}', require('${specifier('src/routes/legacy.js', domainRoutesFile(d))}'));`).join('\n')}
  return router;
}

module.exports = { mountLegacyRoutes };
`;

  const admins = tsDomains.filter((d) => d.hasAdmin);
  files['src/routes/admin.ts'] = `import { Router } from 'express';
${admins.map((d) => `import { ${d.camel}AdminRouter } from '${specifier('src/routes/admin.ts', adminRoutesFile(d))}';`).join('\n')}

export const adminRouter = Router();

adminRouter.get('/ping', (_req, res) => {
  res.json({ ok: true });
});
${admins.map((d) => `adminRouter.use('/${d.folder}', ${d.camel}AdminRouter);`).join('\n')}
`;

  files['src/db/table.ts'] = `// In-process table with the shape of an async driver, so repositories can move to a real store later.
export type Filter<T> = Partial<T>;

export class Table<T extends { id: string }> {
  private readonly rows = new Map<string, T>();

  constructor(readonly name: string) {}

  async findById(id: string): Promise<T | undefined> {
    const row = this.rows.get(id);
    return row === undefined ? undefined : structuredClone(row);
  }

  async findAll(filter: Filter<T> = {}): Promise<T[]> {
    const out: T[] = [];
    for (const row of this.rows.values()) {
      if (Object.entries(filter).every(([key, value]) => (row as Record<string, unknown>)[key] === value)) out.push(structuredClone(row));
    }
    return out;
  }

  async count(filter: Filter<T> = {}): Promise<number> {
    return (await this.findAll(filter)).length;
  }

  async insert(row: T): Promise<T> {
    if (this.rows.has(row.id)) throw new Error(\`duplicate key \${row.id} in \${this.name}\`);
    this.rows.set(row.id, structuredClone(row));
    return structuredClone(row);
  }

  async update(id: string, patch: Partial<T>): Promise<T | undefined> {
    const row = this.rows.get(id);
    if (!row) return undefined;
    const next = { ...row, ...patch, id };
    this.rows.set(id, next);
    return structuredClone(next);
  }

  async remove(id: string): Promise<boolean> {
    return this.rows.delete(id);
  }
}
`;

  files['src/db/database.ts'] = `import { Table } from './table';

const tables = new Map<string, Table<{ id: string }>>();

export const db = {
  table<T extends { id: string }>(name: string): Table<T> {
    let table = tables.get(name);
    if (!table) {
      table = new Table<{ id: string }>(name);
      tables.set(name, table);
    }
    return table as unknown as Table<T>;
  },
};
`;

  files['src/middleware/authenticate.ts'] = `import type { NextFunction, Request, Response } from 'express';
import jwt from 'jsonwebtoken';
import { config } from '../config';
import { UnauthorizedError } from '@shared/errors';

export interface AuthUser {
  id: string;
  role: 'customer' | 'staff' | 'admin';
}

export function authenticate(req: Request, _res: Response, next: NextFunction): void {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : null;
  if (!token) return next(new UnauthorizedError('missing bearer token'));
  try {
    (req as Request & { user?: AuthUser }).user = jwt.verify(token, config.jwtSecret) as AuthUser;
    next();
  } catch {
    next(new UnauthorizedError('invalid token'));
  }
}

export function currentUser(req: Request): AuthUser {
  const user = (req as Request & { user?: AuthUser }).user;
  return user ?? { id: 'anonymous', role: 'customer' };
}
`;

  files['src/middleware/require-role.ts'] = `import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ForbiddenError } from '@shared/errors';
import { currentUser, type AuthUser } from './authenticate';

export function requireRole(...roles: Array<AuthUser['role']>): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!roles.includes(currentUser(req).role)) return next(new ForbiddenError(\`needs role \${roles.join(' or ')}\`));
    next();
  };
}
`;

  files['src/middleware/validate.ts'] = `import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ValidationError } from '@shared/errors';

/** Rejects a request whose JSON body lacks one of the required fields. */
export function validateBody(required: string[]): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const missing = required.filter((field) => body[field] === undefined || body[field] === '');
    if (missing.length > 0) return next(new ValidationError(missing.map((f) => \`\${f} is required\`)));
    next();
  };
}
`;

  files['src/middleware/error-handler.ts'] = `import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '@shared/errors';
import { logger } from '@shared/logger';

export function notFound(req: Request, res: Response): void {
  res.status(404).json({ error: { code: 'NOT_FOUND', message: \`\${req.method} \${req.originalUrl} does not exist\` } });
}

export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (error instanceof HttpError) {
    res.status(error.status).json({ error: { code: error.code, message: error.message, details: error.details } });
    return;
  }
  logger.error('unhandled error', { path: req.originalUrl, error: String(error) });
  res.status(500).json({ error: { code: 'INTERNAL', message: 'Something went wrong' } });
}
`;

  files['src/middleware/request-logger.ts'] = `import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { logger } from '@shared/logger';

export function requestLogger(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    logger.info('request', { method: req.method, path: req.originalUrl, status: res.statusCode, ms: Math.round(ms) });
  });
  next();
}

/** Tags log lines of a domain's requests with the domain name. */
export function tagRequests(domain: string): RequestHandler {
  return (req, _res, next) => {
    (req as Request & { domain?: string }).domain = domain;
    next();
  };
}
`;

  files['src/shared/logger.ts'] = `type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Level[] = ['debug', 'info', 'warn', 'error'];
const threshold = LEVELS.indexOf((process.env.LOG_LEVEL as Level | undefined) ?? 'info');

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function make(base: Record<string, unknown>): Logger {
  const write = (level: Level) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS.indexOf(level) < threshold) return;
    process.stdout.write(\`\${JSON.stringify({ level, message, ...base, ...fields })}\\n\`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (fields) => make({ ...base, ...fields }) };
}

export const logger = make({});
`;

  files['src/shared/ids.ts'] = `import { randomUUID } from 'node:crypto';

export function newId(): string {
  return randomUUID();
}
`;

  files['src/shared/errors.ts'] = `export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class NotFoundError extends HttpError {
  constructor(what: string, id: string) {
    super(404, 'NOT_FOUND', \`\${what} \${id} not found\`);
  }
}

export class ValidationError extends HttpError {
  constructor(problems: string[]) {
    super(400, 'VALIDATION', problems.join('; '), problems);
  }
}

export class UnauthorizedError extends HttpError {
  constructor(message: string) {
    super(401, 'UNAUTHORIZED', message);
  }
}

export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, 'FORBIDDEN', message);
  }
}
`;

  files['src/shared/async-handler.ts'] = `import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Express 4 does not catch rejected promises: route every async handler's errors to next(). */
export function asyncHandler(fn: (req: Request, res: Response, next: NextFunction) => Promise<unknown>): RequestHandler {
  return (req, res, next) => {
    fn(req, res, next).catch(next);
  };
}
`;

  files['src/shared/pagination.ts'] = `export interface PageRequest {
  page: number;
  size: number;
}

export interface Page<T> {
  items: T[];
  page: number;
  size: number;
  total: number;
}

export function parsePageRequest(query: Record<string, unknown>): PageRequest {
  const page = Math.max(1, Number.parseInt(String(query.page ?? '1'), 10) || 1);
  const size = Math.min(200, Math.max(1, Number.parseInt(String(query.size ?? '50'), 10) || 50));
  return { page, size };
}

export function paginate<T>(rows: T[], request: PageRequest): Page<T> {
  const start = (request.page - 1) * request.size;
  return { items: rows.slice(start, start + request.size), page: request.page, size: request.size, total: rows.length };
}
`;

  const barrelUtils = utils.filter((u) => !u.cjs).slice(0, 8);
  files['src/shared/index.ts'] = [
    "export * from './async-handler';",
    "export * from './errors';",
    "export * from './logger';",
    "export * from './pagination';",
    ...barrelUtils.map((u) => `export * from './utils/${u.name}';`),
    '',
  ].join('\n');
  return files;
}

// ---- the tree ----------------------------------------------------------------------------------------------

/**
 * Builds the whole tree in memory: a sorted list of [repo-relative path, content] and a summary.
 * @param {{ modules: number, seed?: number | string }} options
 */
export function buildMonolith({ modules, seed = 42 }) {
  if (!Number.isInteger(modules) || modules < 1) throw new Error(`modules must be a positive integer, not ${modules}`);
  const { rng, domains, utils } = planTree(modules, seed);
  const files = new Map();
  const add = (rendered) => {
    if (files.has(rendered.path)) throw new Error(`generator bug: ${rendered.path} written twice`);
    files.set(rendered.path, `${rendered.text.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`);
  };
  for (const [file, text] of Object.entries(coreModules(domains, utils))) add({ path: file, text: [text] });
  for (const util of utils) add(renderUtil(rng, util));
  for (const domain of domains) {
    add(renderDomainIndex(rng, domain));
    add(renderDomainRouter(rng, domain));
    if (domain.hasAdmin) add(renderAdminRouter(rng, domain));
    for (const entity of domain.entities) {
      add(renderModel(rng, entity));
      add(renderRepository(rng, entity));
      add(renderService(rng, entity, utils));
      add(renderController(rng, entity));
      add(renderEntityRouter(rng, entity));
    }
    for (const helper of domain.helpers) add(renderHelper(rng, domain, helper, utils));
  }
  if (files.size !== modules) throw new Error(`generator bug: ${files.size} modules instead of ${modules}`);

  files.set('package.json', `${JSON.stringify({
    name: `bench-monolith-${modules}`,
    version: '1.0.0',
    private: true,
    description: `Synthetic Express monolith for decompose's benchmark (${modules} modules, seed ${seed}, generator v${GENERATOR_VERSION})`,
    main: 'dist/server.js',
    scripts: { build: 'tsc -p tsconfig.json', start: 'node dist/server.js' },
    dependencies: { express: '^4.21.2', jsonwebtoken: '^9.0.2', mongoose: '^8.9.0' },
    devDependencies: { '@types/express': '^4.17.21', '@types/jsonwebtoken': '^9.0.7', '@types/node': '^20.17.0', typescript: '~5.9.3' },
  }, null, 2)}\n`);
  files.set('tsconfig.json', `${JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      allowJs: true,
      checkJs: false,
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      outDir: 'dist',
      paths: {
        '@shared': ['./src/shared/index.ts'],
        '@shared/*': ['./src/shared/*'],
        '@db/*': ['./src/db/*'],
        '@middleware/*': ['./src/middleware/*'],
        '@domains/*': ['./src/domains/*'],
      },
    },
    include: ['src'],
  }, null, 2)}\n`);
  files.set('README.md', `# bench-monolith-${modules}\n\nGenerated by decompose's scripts/bench/generate.mjs (modules ${modules}, seed ${seed}). Not a real application.\n`);

  const sorted = [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let lines = 0;
  let bytes = 0;
  let cjsModules = 0;
  for (const [file, text] of sorted) {
    if (!file.startsWith('src/')) continue;
    lines += text.split('\n').length - 1;
    bytes += Buffer.byteLength(text);
    if (file.endsWith('.js')) cjsModules += 1;
  }
  const routes = domains.reduce((sum, d) => sum + d.entities.reduce((s, e) => s + entityRoutes(e).length, 0) + (d.hasAdmin ? 2 : 0), 1 + 1);
  return {
    files: sorted,
    summary: {
      generatorVersion: GENERATOR_VERSION,
      seed,
      modules,
      domains: domains.length,
      domainNames: domains.map((d) => d.folder),
      commonjsDomains: domains.filter((d) => d.cjs).map((d) => d.folder),
      layeredDomains: domains.filter((d) => d.layered).map((d) => d.folder),
      entities: domains.reduce((sum, d) => sum + d.entities.length, 0),
      commonjsModules: cjsModules,
      typescriptModules: modules - cjsModules,
      lines,
      bytes,
      linesPerModule: Math.round(lines / modules),
      routes,
      crossDomainCalls: domains.reduce((sum, d) => sum + d.entities.reduce((s, e) => s + e.calls.length, 0), 0),
    },
  };
}

/** Writes the tree under `dir` (created; must be empty or missing) and returns the summary. */
export function generateMonolith({ modules, seed = 42, dir }) {
  const { files, summary } = buildMonolith({ modules, seed });
  fs.mkdirSync(dir, { recursive: true });
  if (fs.readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);
  const made = new Set();
  for (const [file, text] of files) {
    const full = path.join(dir, file);
    const parent = path.dirname(full);
    if (!made.has(parent)) {
      fs.mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    fs.writeFileSync(full, text);
  }
  return { ...summary, dir };
}

// ---- command line ------------------------------------------------------------------------------------------

function main(argv) {
  const args = { modules: null, seed: 42, out: null, json: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--modules') args.modules = Number(argv[++i]);
    else if (arg === '--seed') args.seed = Number(argv[++i]);
    else if (arg === '--out') args.out = argv[++i];
    else if (arg === '--json') args.json = true;
    else throw new Error(`unknown argument ${arg}\nusage: node scripts/bench/generate.mjs --modules N [--seed S] --out DIR [--json]`);
  }
  if (!args.modules || !args.out) throw new Error('usage: node scripts/bench/generate.mjs --modules N [--seed S] --out DIR [--json]');
  const summary = generateMonolith({ modules: args.modules, seed: args.seed, dir: path.resolve(args.out) });
  if (args.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stdout.write(`${summary.dir}: ${summary.modules} modules, ${summary.domains} domains, ${summary.lines} lines, ${summary.routes} routes\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}
