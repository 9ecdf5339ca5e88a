// Ordinary application code used to give generated modules a realistic size: sanitisers, totals, grouping,
// diffs, status descriptions, retries, batching and scoring, written for one entity, in TypeScript (typed)
// or plain JavaScript. Every function is module-private; names are unique within a module.

const NOUNS = ['Fields', 'Totals', 'Window', 'Labels', 'Entries', 'Changes', 'Snapshot', 'Metrics', 'Batch', 'Summary', 'Flags', 'Ranges'];

/**
 * Appends filler functions to `lines` until it holds at least `target` lines.
 * @param {import('./rng.mjs').Rng} rng
 * @param {{ ts: boolean, entity: { Class: string, camel: string, statuses: string[], fields: Array<{ name: string }> }, used: Set<string> }} ctx
 * @param {string[]} lines
 * @param {number} target
 */
export function padWithFillers(rng, ctx, lines, target) {
  let guard = 0;
  while (lines.length < target && guard < 200) {
    guard += 1;
    const template = rng.pick(TEMPLATES);
    lines.push('', ...template(rng, ctx, uniqueName(ctx, template.verb, rng)));
  }
}

function uniqueName(ctx, verb, rng) {
  const base = `${verb}${ctx.entity.Class}${rng.pick(NOUNS)}`;
  let name = base;
  for (let n = 2; ctx.used.has(name); n += 1) name = `${base}${n}`;
  ctx.used.add(name);
  return name;
}

/** `: type` in TypeScript, nothing in JavaScript. */
const t = (ctx, type) => (ctx.ts ? `: ${type}` : '');

function stringFields(ctx) {
  const names = ctx.entity.fields.filter((f) => f.type === 'string' || f.type === 'string | null').map((f) => f.name);
  return names.length > 0 ? names : ['name'];
}

function sanitize(rng, ctx, name) {
  const limit = rng.pick([120, 200, 240, 500, 1000]);
  const keep = stringFields(ctx).slice(0, 3);
  return [
    `/** Trims strings, drops empty values and caps long text before a ${ctx.entity.camel} is stored. */`,
    `function ${name}(input${t(ctx, 'Record<string, unknown>')})${t(ctx, 'Record<string, unknown>')} {`,
    `  const out${t(ctx, 'Record<string, unknown>')} = {};`,
    `  const keep = new Set([${keep.map((k) => `'${k}'`).join(', ')}]);`,
    '  for (const [key, value] of Object.entries(input)) {',
    '    if (value === undefined || value === null) continue;',
    "    if (typeof value === 'string') {",
    '      const trimmed = value.trim();',
    '      if (trimmed.length === 0 && !keep.has(key)) continue;',
    `      out[key] = trimmed.length > ${limit} ? trimmed.slice(0, ${limit}) : trimmed;`,
    '    } else if (Array.isArray(value)) {',
    "      out[key] = value.filter((item) => item !== null && item !== undefined && item !== '');",
    '    } else {',
    '      out[key] = value;',
    '    }',
    '  }',
    '  return out;',
    '}',
  ];
}
sanitize.verb = 'sanitize';

function totals(rng, ctx, name) {
  const cap = rng.pick([10, 50, 100, 1000]);
  return [
    `function ${name}(rows${t(ctx, 'Array<{ amountCents?: number; quantity?: number; status?: string }>')})${t(ctx, '{ count: number; totalCents: number; averageCents: number; skipped: number }')} {`,
    '  let totalCents = 0;',
    '  let count = 0;',
    '  let skipped = 0;',
    '  for (const row of rows) {',
    `    if (row.status === '${ctx.entity.statuses.at(-1)}') {`,
    '      skipped += 1;',
    '      continue;',
    '    }',
    "    const amount = typeof row.amountCents === 'number' && Number.isFinite(row.amountCents) ? row.amountCents : 0;",
    `    const quantity = typeof row.quantity === 'number' && row.quantity > 0 ? Math.min(row.quantity, ${cap}) : 1;`,
    '    totalCents += amount * quantity;',
    '    count += 1;',
    '  }',
    '  return { count, totalCents, averageCents: count === 0 ? 0 : Math.round(totalCents / count), skipped };',
    '}',
  ];
}
totals.verb = 'total';

function group(rng, ctx, name) {
  const key = rng.pick(['status', 'region', 'ownerId', 'currency', 'priority']);
  const row = ctx.ts ? `{ ${key}?: unknown }` : '';
  return [
    `function ${name}${ctx.ts ? `<T extends ${row}>` : ''}(rows${t(ctx, 'T[]')})${t(ctx, 'Map<string, T[]>')} {`,
    `  const groups = new Map${ctx.ts ? '<string, T[]>' : ''}();`,
    '  for (const row of rows) {',
    `    const key = row.${key} === undefined || row.${key} === null ? 'unknown' : String(row.${key});`,
    '    const list = groups.get(key);',
    '    if (list) list.push(row);',
    '    else groups.set(key, [row]);',
    '  }',
    '  return new Map([...groups.entries()].sort(([a], [b]) => a.localeCompare(b)));',
    '}',
  ];
}
group.verb = 'group';

function diff(rng, ctx, name) {
  const ignored = rng.pick(['updatedAt', 'createdAt', 'version']);
  return [
    `/** The fields that differ between two versions of a ${ctx.entity.camel}, for the audit trail. */`,
    `function ${name}(before${t(ctx, 'Record<string, unknown>')}, after${t(ctx, 'Record<string, unknown>')})${t(ctx, 'string[]')} {`,
    `  const changed${t(ctx, 'string[]')} = [];`,
    '  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);',
    '  for (const key of keys) {',
    `    if (key === '${ignored}') continue;`,
    '    const a = before[key];',
    '    const b = after[key];',
    "    if (typeof a === 'object' || typeof b === 'object') {",
    '      if (JSON.stringify(a) !== JSON.stringify(b)) changed.push(key);',
    '    } else if (a !== b) {',
    '      changed.push(key);',
    '    }',
    '  }',
    '  return changed.sort();',
    '}',
  ];
}
diff.verb = 'diff';

function describe(rng, ctx, name) {
  const phrases = {
    draft: 'not submitted yet', pending: 'waiting for review', active: 'in use', approved: 'approved by an operator',
    rejected: 'rejected', archived: 'kept for the record only', cancelled: 'cancelled before completion',
    completed: 'done', failed: 'failed and may be retried', scheduled: 'planned for later', expired: 'past its end date',
    on_hold: 'paused by support',
  };
  const lines = [
    `function ${name}(status${t(ctx, 'string')}, locale${t(ctx, 'string')} = 'en')${t(ctx, 'string')} {`,
    `  const prefix = locale.startsWith('en') ? '${ctx.entity.Class}' : '${ctx.entity.camel}';`,
    '  switch (status) {',
  ];
  for (const status of ctx.entity.statuses) {
    lines.push(`    case '${status}':`, `      return \`\${prefix} ${phrases[status] ?? status}\`;`);
  }
  lines.push('    default:', `      return \`\${prefix} in an unknown state (\${status})\`;`, '  }', '}');
  if (rng.chance(0.3)) lines.unshift('// Shown in e-mails and in the back office; keep in step with the status list.');
  return lines;
}
describe.verb = 'describe';

function retry(rng, ctx, name) {
  const delay = rng.pick([20, 25, 50, 100]);
  const attempts = rng.pick([2, 3, 4, 5]);
  return [
    `async function ${name}${ctx.ts ? '<T>' : ''}(operation${t(ctx, '() => Promise<T>')}, attempts = ${attempts})${t(ctx, 'Promise<T>')} {`,
    `  let lastError${t(ctx, 'unknown')};`,
    '  for (let attempt = 1; attempt <= attempts; attempt += 1) {',
    '    try {',
    '      return await operation();',
    '    } catch (error) {',
    '      lastError = error;',
    '      if (attempt === attempts) break;',
    `      await new Promise((resolve) => setTimeout(resolve, attempt * ${delay}));`,
    '    }',
    '  }',
    '  throw lastError instanceof Error ? lastError : new Error(String(lastError));',
    '}',
  ];
}
retry.verb = 'retry';

function batches(rng, ctx, name) {
  const size = rng.pick([25, 50, 100, 200, 500]);
  return [
    `function ${name}${ctx.ts ? '<T>' : ''}(items${t(ctx, 'T[]')}, size = ${size})${t(ctx, 'T[][]')} {`,
    "  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, not ${size}`);",
    `  const out${t(ctx, 'T[][]')} = [];`,
    '  for (let i = 0; i < items.length; i += size) {',
    '    out.push(items.slice(i, i + size));',
    '  }',
    '  return out;',
    '}',
  ];
}
batches.verb = 'split';

function score(rng, ctx, name) {
  const a = rng.int(20, 50);
  const b = rng.int(10, 40);
  const c = 100 - a - b;
  const horizon = rng.pick([30, 90, 180, 365]);
  return [
    `function ${name}(row${t(ctx, '{ updatedAt?: string; quantity?: number; amountCents?: number }')}, now${t(ctx, 'number')})${t(ctx, 'number')} {`,
    `  const ageDays = row.updatedAt ? (now - Date.parse(row.updatedAt)) / 86_400_000 : ${horizon};`,
    `  const recency = Math.max(0, 1 - ageDays / ${horizon});`,
    '  const volume = Math.min(1, (row.quantity ?? 0) / 100);',
    '  const value = Math.min(1, (row.amountCents ?? 0) / 1_000_000);',
    `  const weighted = recency * ${a / 100} + volume * ${b / 100} + value * ${c / 100};`,
    '  return Number(weighted.toFixed(4));',
    '}',
  ];
}
score.verb = 'score';

function ranges(rng, ctx, name) {
  const field = rng.pick(['startsAt', 'createdAt', 'dueDate']);
  return [
    `/** Splits rows into the calendar months they fall in (by ${field}), oldest first. */`,
    `function ${name}(rows${t(ctx, `Array<{ ${field}?: string | null }>`)})${t(ctx, 'Array<{ month: string; count: number }>')} {`,
    `  const counts = new Map${ctx.ts ? '<string, number>' : ''}();`,
    '  for (const row of rows) {',
    `    const value = row.${field};`,
    '    if (!value) continue;',
    '    const date = new Date(value);',
    '    if (Number.isNaN(date.getTime())) continue;',
    "    const month = `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;",
    '    counts.set(month, (counts.get(month) ?? 0) + 1);',
    '  }',
    '  return [...counts.entries()]',
    '    .sort(([a], [b]) => a.localeCompare(b))',
    '    .map(([month, count]) => ({ month, count }));',
    '}',
  ];
}
ranges.verb = 'bucket';

const TEMPLATES = [sanitize, totals, group, diff, describe, retry, batches, score, ranges];
