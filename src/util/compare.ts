/** One set of comparators so every stage sorts the same way (code-unit order, locale-independent). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareNumbers(a: number, b: number): number {
  return a - b;
}

/** Sorts a copy by the keys a selector returns, comparing them in order. */
export function sortBy<T>(items: Iterable<T>, ...keys: Array<(item: T) => string | number>): T[] {
  return [...items].sort((a, b) => {
    for (const key of keys) {
      const ka = key(a);
      const kb = key(b);
      const order = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : compareStrings(String(ka), String(kb));
      if (order !== 0) return order;
    }
    return 0;
  });
}

export function uniqueSorted(items: Iterable<string>): string[] {
  return [...new Set(items)].sort(compareStrings);
}

/** JSON with sorted object keys, two-space indent and a trailing newline: stable for diffs. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeysDeep(value), null, 2)}\n`;
}

/**
 * The value with every object's keys in sorted order and undefined properties left out. Parts that are already so
 * are returned as they are, not copied. (The analysis file, a million records at 10,000 modules, does not come
 * through here: its records are built in key order, see serializeAnalysis.)
 */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const sorted = sortKeysDeep(item);
      if (sorted !== item) {
        copy ??= value.slice();
        copy[i] = sorted;
      }
    }
    return copy ?? value;
  }
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let unchanged = true;
  for (let i = 1; i < keys.length && unchanged; i++) if (keys[i - 1]! > keys[i]!) unchanged = false;
  const values: unknown[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const item = record[keys[i]!];
    const sorted = item === undefined ? undefined : sortKeysDeep(item);
    values[i] = sorted;
    if (sorted !== item || item === undefined) unchanged = false;
  }
  if (unchanged) return value;
  const order = keys.map((_, i) => i).sort((a, b) => compareStrings(keys[a]!, keys[b]!));
  const out: Record<string, unknown> = {};
  for (const i of order) if (values[i] !== undefined) out[keys[i]!] = values[i];
  return out;
}
