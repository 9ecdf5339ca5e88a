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

export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareStrings)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeysDeep(v);
    }
    return out;
  }
  return value;
}
