import { ts } from 'ts-morph';

// A note on `ts`: the compiler API object that ts-morph exports holds thousands of properties, each a getter, so
// V8 keeps it as a hash table and every `ts.isIdentifier(node)` is a dictionary look-up plus a getter call. The
// analyzer asks such questions of every node several times over, so each module of analyze/ binds the functions
// it uses once, at load (`const { isIdentifier } = ts;`), which made the analysis about a fifth faster. Types
// are still written `ts.Node`.
const { canHaveModifiers, forEachChild, getModifiers, isNoSubstitutionTemplateLiteral, isStringLiteral, SyntaxKind } = ts;

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
  if (isStringLiteral(node) || isNoSubstitutionTemplateLiteral(node)) return node.text;
  return null;
}

/** Visits every node below `node` (depth first, in source order). */
export function forEachDescendant(node: ts.Node, visit: (node: ts.Node) => void): void {
  const walk = (child: ts.Node): void => {
    visit(child);
    forEachChild(child, walk);
  };
  forEachChild(node, walk);
}

export function isFunctionLike(node: ts.Node): node is ts.FunctionLikeDeclaration {
  // A switch on the kind: this runs for nearly every node of every module (scope look-ups, facts).
  switch (node.kind) {
    case SyntaxKind.FunctionDeclaration:
    case SyntaxKind.FunctionExpression:
    case SyntaxKind.ArrowFunction:
    case SyntaxKind.MethodDeclaration:
    case SyntaxKind.Constructor:
    case SyntaxKind.GetAccessor:
    case SyntaxKind.SetAccessor:
      return true;
    default:
      return false;
  }
}

export function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return canHaveModifiers(node) && (getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}
