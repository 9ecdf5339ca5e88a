import { describe, expect, it } from 'vitest';
import { sortKeysDeep, stableJson } from './compare.js';

describe('sortKeysDeep', () => {
  it('sorts the keys of every object, however deep, and leaves undefined properties out', () => {
    const value = { b: 1, a: [{ z: true, y: undefined, x: { d: 'd', c: 'c' } }, 'text', null] };
    expect(JSON.stringify(sortKeysDeep(value))).toBe('{"a":[{"x":{"c":"c","d":"d"},"z":true},"text",null],"b":1}');
    // The input itself is not changed.
    expect(Object.keys(value)).toEqual(['b', 'a']);
    expect(Object.keys(value.a[0] as object)).toEqual(['z', 'y', 'x']);
  });

  it('returns what is already sorted as it is, and copies only the path down to what is not', () => {
    const sorted = { a: { b: 1 }, c: [{ d: 2, e: 3 }] };
    expect(sortKeysDeep(sorted)).toBe(sorted);
    const unsortedLeaf = { f: 1, e: 2 };
    const untouched = { a: 1, b: 2 };
    const mixed = { a: untouched, b: [untouched, unsortedLeaf] };
    const result = sortKeysDeep(mixed) as { a: unknown; b: unknown[] };
    expect(result).not.toBe(mixed);
    expect(result.a).toBe(untouched);
    expect(result.b).not.toBe(mixed.b);
    expect(result.b[0]).toBe(untouched);
    expect(Object.keys(result.b[1] as object)).toEqual(['e', 'f']);
    // An object in key order that holds an undefined property is copied without it.
    const withUndefined = { a: 1, b: undefined };
    expect(sortKeysDeep(withUndefined)).not.toBe(withUndefined);
    expect(sortKeysDeep(withUndefined)).toEqual({ a: 1 });
  });

  it('orders keys by code unit, not by locale', () => {
    expect(Object.keys(sortKeysDeep({ b: 1, B: 2, a: 3, _: 4 }) as object)).toEqual(['B', '_', 'a', 'b']);
  });
});

describe('stableJson', () => {
  it('writes sorted keys with two-space indentation and a trailing newline', () => {
    expect(stableJson({ b: [1], a: {} })).toBe('{\n  "a": {},\n  "b": [\n    1\n  ]\n}\n');
  });
});
