import { ts } from 'ts-morph';

/** A parsed source file. Lives only inside analyze/. */
export interface ParsedModule {
  /** Absolute path. */
  file: string;
  /** Repo-relative POSIX path. */
  path: string;
  text: string;
  source: ts.SourceFile;
  language: 'ts' | 'js';
  /**
   * Every call and `new` expression of the module, in source order (depth first, as a walk would meet them),
   * collected once when the module is parsed so later passes need not walk the whole tree for them.
   */
  calls: ReadonlyArray<ts.CallExpression | ts.NewExpression>;
}

export function lineOf(module: ParsedModule, node: ts.Node): number {
  return module.source.getLineAndCharacterOfPosition(node.getStart(module.source)).line + 1;
}

export function positionOf(module: ParsedModule, node: ts.Node): { line: number; column: number } {
  const pos = module.source.getLineAndCharacterOfPosition(node.getStart(module.source));
  return { line: pos.line + 1, column: pos.character + 1 };
}

export function scriptKindFor(file: string): ts.ScriptKind {
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (file.endsWith('.jsx')) return ts.ScriptKind.JSX;
  if (/\.[cm]?ts$/.test(file)) return ts.ScriptKind.TS;
  return ts.ScriptKind.JS;
}

/** Text of a string-like literal, or null when the node is not one. */
export function literalText(node: ts.Node | undefined): string | null {
  if (!node) return null;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return null;
}

/** Visits every node below `node` (depth first, in source order). */
export function forEachDescendant(node: ts.Node, visit: (node: ts.Node) => void): void {
  const walk = (child: ts.Node): void => {
    visit(child);
    ts.forEachChild(child, walk);
  };
  ts.forEachChild(node, walk);
}

export function isFunctionLike(node: ts.Node): node is ts.FunctionLikeDeclaration {
  // A switch on the kind: this runs for nearly every node of every module (scope look-ups, facts).
  switch (node.kind) {
    case ts.SyntaxKind.FunctionDeclaration:
    case ts.SyntaxKind.FunctionExpression:
    case ts.SyntaxKind.ArrowFunction:
    case ts.SyntaxKind.MethodDeclaration:
    case ts.SyntaxKind.Constructor:
    case ts.SyntaxKind.GetAccessor:
    case ts.SyntaxKind.SetAccessor:
      return true;
    default:
      return false;
  }
}

export function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}
