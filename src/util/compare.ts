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
 * are returned as they are, not copied: the analysis builds its records with their keys in order, and copying
 * hundreds of thousands of them took longer than writing the JSON.
 */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'object' || item === null) continue;
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
  // for…in allocates nothing; the lists of keys and values are made only from the first key out of order or value
  // changed (a large analysis is a million objects, nearly all built in order).
  let keys: string[] | null = null;
  let values: unknown[] | null = null;
  let previous: string | null = null;
  let seen = 0;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const item = record[key];
    const sorted = typeof item === 'object' && item !== null ? sortKeysDeep(item) : item;
    if (keys === null && (sorted !== item || item === undefined || (previous !== null && previous > key))) {
      // Everything before this key was unchanged: its values are its own.
      keys = Object.keys(record).slice(0, seen);
      values = keys.map((k) => record[k]);
    }
    if (keys !== null) {
      keys.push(key);
      values!.push(sorted);
    }
    previous = key;
    seen += 1;
  }
  if (keys === null) return value;
  const order = keys.map((_, i) => i).sort((a, b) => compareStrings(keys[a]!, keys[b]!));
  const out: Record<string, unknown> = {};
  for (const i of order) if (values![i] !== undefined) out[keys[i]!] = values![i];
  return out;
}
