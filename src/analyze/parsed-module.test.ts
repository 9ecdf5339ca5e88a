import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';
import { describe, expect, it } from 'vitest';
import { MAX_AST_DEPTH, ParsedModule, TreeCache, addressOf, lineOf, lineOfRef, nodeAt, parseSource, refOf, startOf, textOf, walkTree } from './parsed-module.js';

// Nodes that share a start and a kind (`a.b.c` and `a.b`), or an end and a kind (`a = b = c`, `x => y => z`),
// zero-width nodes (array holes), a shebang and comments before nodes.
const SOURCE = [
  '#!/usr/bin/env node',
  '/** leading doc */',
  'const a = { b: { c: [1, , 3] } };',
  'let x, y, z;',
  'x = y = z = a.b.c;',
  'const curry = (p: number) => (q: number) => (r: number) => p + q + r;',
  'const pick = cond ? (other ? 1 : 2) : 3;',
  'call(a)(x)(y).then((v) => v).catch(() => {});',
  'export function f(this: unknown, [, second]: number[]) {',
  '  // a comment',
  '  return second ? f.call(this, [second]) : undefined;',
  '}',
  '',
].join('\n');

function everyNode(source: ts.SourceFile): ts.Node[] {
  const out: ts.Node[] = [];
  const visit = (node: ts.Node): void => {
    out.push(node);
    typescript.forEachChild(node, visit);
  };
  typescript.forEachChild(source, visit);
  return out;
}

describe('NodeRef', () => {
  it('names the same node in a tree parsed again, and reads its start, line and text without the tree', () => {
    const file = '/project/src/sample.ts';
    const module = new ParsedModule(file, 'src/sample.ts', SOURCE, 'ts', new Int32Array(0), walkTree(parseSource(file, SOURCE))!.nodes.length, new TreeCache(1));
    const original = parseSource(file, SOURCE);
    // A node is named by its number in its tree's walk: a tree that was not walked has none.
    expect(() => addressOf(original.statements[0]!)).toThrow(/not walked/);
    walkTree(original);
    const reparsed = module.source;
    expect(reparsed).not.toBe(original);
    const nodes = everyNode(original);
    expect(nodes.some((node) => node.kind === typescript.SyntaxKind.OmittedExpression)).toBe(true);
    const addresses = new Set<number>();
    for (const node of nodes) {
      const ref = refOf(node);
      addresses.add(addressOf(ref));
      const found = nodeAt(module, ref);
      expect([found.pos, found.end, found.kind]).toEqual([node.pos, node.end, node.kind]);
      expect(found.parent.kind).toBe(node.parent.kind);
      expect(startOf(module, ref)).toBe(node.getStart(original));
      expect(lineOfRef(module, ref)).toBe(lineOf(module, node));
      expect(textOf(module, ref)).toBe(node.getText(original));
    }
    // Every node has an address of its own, and the root has one too.
    expect(addresses.size).toBe(nodes.length);
    expect(nodeAt(module, refOf(original))).toBe(reparsed);
  });
});

describe('MAX_AST_DEPTH', () => {
  /** The nestings that cost the parser the most stack per level of tree, as modules `levels` levels deep or so. */
  const COSTLIEST: Record<string, (levels: number) => string> = {
    'type arguments': (n) => `let x: ${'A<'.repeat(n)}number${'>'.repeat(n)};\n`,
    calls: (n) => `x = ${'f('.repeat(n)}1${')'.repeat(n)};\n`,
    'element access': (n) => `x = ${'a['.repeat(n)}1${']'.repeat(n)};\n`,
    'new with arguments': (n) => `x = ${'new f('.repeat(n)}1${')'.repeat(n)};\n`,
  };

  /** The deepest module of a nesting that the walk still accepts (found with the stack to spare at the top). */
  function deepestAccepted(nesting: (levels: number) => string): string {
    let levels = MAX_AST_DEPTH;
    while (walkTree(parseSource('/deep.ts', nesting(levels))) === null) levels -= 1;
    expect(walkTree(parseSource('/deep.ts', nesting(levels + 1)))).toBeNull();
    return nesting(levels);
  }

  /** Runs `fn` with about `fraction` of the thread's stack already in use. */
  function withStackInUse<T>(fraction: number, fn: () => T): T {
    let reached = 0;
    const descend = (depth: number, target: number): T => {
      reached = depth;
      return depth >= target ? fn() : descend(depth + 1, target);
    };
    // Measured twice: the second time `descend` is optimised, as it will be when it burns the stack.
    let capacity = 0;
    for (let i = 0; i < 2; i++) {
      try {
        descend(0, Number.POSITIVE_INFINITY);
      } catch {
        capacity = Math.max(capacity, reached);
      }
    }
    return descend(0, Math.floor(capacity * fraction));
  }

  it.each(Object.keys(COSTLIEST))('a module of %s as deep as accepted parses with 35 percent of the stack already in use', (name) => {
    const text = deepestAccepted(COSTLIEST[name]!);
    // The test runs in a child process (pool: forks): the main thread's stack, the size the CLI has.
    const tree = withStackInUse(0.35, () => parseSource('/deep.ts', text));
    expect(walkTree(tree)).not.toBeNull();
  });
});
