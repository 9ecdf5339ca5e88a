/**
 * JSON as services send it to each other. Like JSON, except that what the monolith passed around in one process
 * keeps its type across the network:
 * - a Date travels as `{"$date": "<ISO>"}` and comes back a Date, so `row.expiresAt < new Date()` still works;
 * - a symbol from a table the shared code exports (query operators such as `Op.in`) travels by name
 *   (`{"$sym": "Op.in"}`, or a `"$sym:Op.in"` key) and comes back as the receiving process's own symbol, so
 *   `{ id: { [Op.in]: ids } }` means the same on both sides. Other symbols are dropped, as JSON drops them.
 */

const symbolNames = new Map<symbol, string>();
const namedSymbols = new Map<string, symbol>();
const SYMBOL_KEY = '$sym:';

/** Registers the symbols an exported object holds (`Op` → `Op.in`, `Op.gte` …). */
export function registerSymbolTable(name: string, table: unknown): void {
  if (typeof table !== 'object' || table === null) return;
  for (const [key, value] of Object.entries(table)) {
    if (typeof value !== 'symbol') continue;
    symbolNames.set(value, `${name}.${key}`);
    namedSymbols.set(`${name}.${key}`, value);
  }
}

export function isRegisteredSymbol(value: symbol): boolean {
  return symbolNames.has(value);
}

function toWire(value: unknown, seen: Set<object>): unknown {
  if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? null : value.toISOString() };
  if (typeof value === 'symbol') {
    const name = symbolNames.get(value);
    return name === undefined ? undefined : { $sym: name };
  }
  if (value === null || typeof value !== 'object') return value;
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return toWire(withToJson.toJSON(), seen);
  if (seen.has(value)) throw new TypeError('Converting circular structure to JSON');
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item) => {
        const wire = toWire(item, seen);
        return wire === undefined || typeof wire === 'function' ? null : wire;
      });
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = toWire(item, seen);
    for (const key of Object.getOwnPropertySymbols(value)) {
      const name = symbolNames.get(key);
      if (name !== undefined && Object.prototype.propertyIsEnumerable.call(value, key)) out[`${SYMBOL_KEY}${name}`] = toWire((value as Record<symbol, unknown>)[key], seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export function encode(value: unknown): string {
  return JSON.stringify(toWire(value, new Set()));
}

export function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '$date') {
    const text = (value as { $date: unknown }).$date;
    return text === null ? new Date(Number.NaN) : typeof text === 'string' ? new Date(text) : value;
  }
  if (keys.length === 1 && keys[0] === '$sym') {
    const symbol = namedSymbols.get(String((value as { $sym: unknown }).$sym));
    return symbol ?? value;
  }
  if (!keys.some((k) => k.startsWith(SYMBOL_KEY))) return value;
  const out: Record<string | symbol, unknown> = {};
  for (const key of keys) {
    const symbol = key.startsWith(SYMBOL_KEY) ? namedSymbols.get(key.slice(SYMBOL_KEY.length)) : undefined;
    out[symbol ?? key] = (value as Record<string, unknown>)[key];
  }
  return out;
}

export function decode(text: string): unknown {
  return JSON.parse(text, reviver);
}
