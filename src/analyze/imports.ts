import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';
import type { ImportEdge, ImportKind, UnresolvedImport } from '../model/analysis.js';
import { toRepoPath } from '../util/paths.js';
import { type ParsedModule, type TreeWalk, VALUE_POSITION, literalText, positionOf } from './parsed-module.js';
import type { ModuleResolver } from './resolver.js';

// Bound once instead of read from `ts` at every use (see the note on `ts` in parsed-module.ts).
const { canHaveModifiers, getModifiers, isBinaryExpression, isExportAssignment, isExportDeclaration,
  isExternalModuleReference, isIdentifier, isImportDeclaration,
  isImportEqualsDeclaration, isNamedExports, isNamedImports, isNamespaceExport, isNamespaceImport,
  isObjectBindingPattern, isPropertyAccessExpression, isVariableDeclaration, SyntaxKind } = typescript;

export interface ModuleImports {
  edges: ImportEdge[];
  unresolved: UnresolvedImport[];
  externals: Set<string>;
  builtins: Set<string>;
  format: 'esm' | 'cjs';
}

interface RawImport {
  node: ts.Node;
  specifierNode: ts.Expression;
  kind: ImportKind;
  names: string[];
  /** Local names the import binds; used to decide whether it is only used as a type. */
  locals: string[];
  declaredTypeOnly: boolean;
}

/** Every dependency a module has, resolved to files, packages or built-ins. */
export function extractImports(module: ParsedModule, walk: TreeWalk, root: string, resolver: ModuleResolver): ModuleImports {
  // Three steps, each its own function: V8 optimises each on its own, and the per-node pass stays small (one
  // function over every node of every module was compiled again at each deopt, ~60 ms of compiling each time).
  const declared = readImportStatements(walk.source);
  const uses = readNodes(module, walk, declared.raw);
  return resolveImports(module, walk.source, root, resolver, declared, uses);
}

/** The module's import, export … from and import = require statements, and whether it has ESM syntax. */
function readImportStatements(source: ts.SourceFile): { raw: RawImport[]; esm: boolean } {
  const raw: RawImport[] = [];
  let esm = false;
  for (const statement of source.statements) {
    if (isImportDeclaration(statement)) {
      esm = true;
      const clause = statement.importClause;
      const names: string[] = [];
      const locals: string[] = [];
      let allTypes = clause?.isTypeOnly ?? false;
      if (clause) {
        if (clause.name) {
          names.push('default');
          locals.push(clause.name.text);
        }
        const bindings = clause.namedBindings;
        if (bindings && isNamespaceImport(bindings)) {
          names.push('*');
          locals.push(bindings.name.text);
        } else if (bindings && isNamedImports(bindings)) {
          const elements = bindings.elements;
          if (!clause.isTypeOnly && !clause.name && elements.length > 0 && elements.every((e) => e.isTypeOnly)) allTypes = true;
          for (const element of elements) {
            names.push((element.propertyName ?? element.name).text);
            if (!element.isTypeOnly) locals.push(element.name.text);
          }
        }
      }
      raw.push({ node: statement, specifierNode: statement.moduleSpecifier, kind: 'import', names, locals, declaredTypeOnly: allTypes });
    } else if (isExportDeclaration(statement) && statement.moduleSpecifier) {
      esm = true;
      const clause = statement.exportClause;
      const names = !clause ? ['*'] : isNamespaceExport(clause) ? ['*'] : clause.elements.map((e) => (e.propertyName ?? e.name).text);
      const typeOnly = statement.isTypeOnly || (clause !== undefined && isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly));
      raw.push({ node: statement, specifierNode: statement.moduleSpecifier, kind: 'export-from', names, locals: [], declaredTypeOnly: typeOnly });
    } else if (isImportEqualsDeclaration(statement) && isExternalModuleReference(statement.moduleReference)) {
      raw.push({
        node: statement,
        specifierNode: statement.moduleReference.expression,
        kind: 'import-equals',
        names: ['*'],
        locals: [statement.name.text],
        declaredTypeOnly: statement.isTypeOnly,
      });
    } else if (isExportDeclaration(statement) || isExportAssignment(statement)) {
      esm = esm || !(isExportAssignment(statement) && statement.isExportEquals);
    } else if (canHaveModifiers(statement) && getModifiers(statement)?.some((m) => m.kind === SyntaxKind.ExportKeyword)) {
      esm = true;
    }
  }
  return { raw, esm };
}

/** What one pass over a module's nodes finds (see readNodes). */
interface NodeUses {
  /** require(), require.resolve() and import() calls with a literal specifier. */
  calls: RawImport[];
  /** Those with a specifier that is not a literal. */
  unresolved: UnresolvedImport[];
  cjs: boolean;
  /** The names bound by import declarations that are used as values; null in JavaScript (every import is). */
  valueNames: Set<string> | null;
  /** Property reads on identifiers (`db.Comment`), for namespace imports. */
  propertyReads: ts.PropertyAccessExpression[];
  /** `const { Report } = db`: members read by destructuring a namespace binding. */
  destructured: ts.VariableDeclaration[];
}

/**
 * One pass over the module's nodes collects: calls anywhere in the file (require, require.resolve, import());
 * the property reads on identifiers, for namespace imports; and, in TypeScript, which of the names bound by import
 * declarations are referenced in value positions (see VALUE_POSITION).
 */
function readNodes(module: ParsedModule, walk: TreeWalk, declared: readonly RawImport[]): NodeUses {
  const valueNames = module.language === 'ts' ? new Set<string>() : null;
  const uses: NodeUses = { calls: [], unresolved: [], cjs: false, valueNames, propertyReads: [], destructured: [] };
  // Only the names `import` declarations bind are ever looked up in valueNames; none, nothing to track.
  const importLocals = new Set(declared.flatMap((entry) => (entry.kind === 'import' ? entry.locals : [])));
  const trackValues = valueNames !== null && importLocals.size > 0;
  const { nodes, flags, source } = walk;
  for (let index = 0; index < nodes.length; index += 1) {
    const node = nodes[index]!;
    const kind = node.kind;
    if (kind === SyntaxKind.CallExpression) {
      readCall(module, source, node as ts.CallExpression, uses);
    } else if (kind === SyntaxKind.ExpressionStatement) {
      if (isModuleExportsAssignment((node as ts.ExpressionStatement).expression, source)) uses.cjs = true;
    } else if (kind === SyntaxKind.PropertyAccessExpression) {
      if ((node as ts.PropertyAccessExpression).expression.kind === SyntaxKind.Identifier) uses.propertyReads.push(node as ts.PropertyAccessExpression);
    } else if (kind === SyntaxKind.VariableDeclaration) {
      const declaration = node as ts.VariableDeclaration;
      if (declaration.initializer && isIdentifier(declaration.initializer) && isObjectBindingPattern(declaration.name)) uses.destructured.push(declaration);
    }
    if (!trackValues || (flags[index]! & VALUE_POSITION) === 0) continue;
    if (kind === SyntaxKind.Identifier) {
      const text = (node as ts.Identifier).text;
      if (importLocals.has(text)) valueNames.add(text);
    } else if (kind === SyntaxKind.ExportSpecifier) {
      const specifier = node as ts.ExportSpecifier;
      const name = (specifier.propertyName ?? specifier.name).text;
      if (!specifier.isTypeOnly && !specifier.parent.parent.isTypeOnly && importLocals.has(name)) valueNames.add(name);
    }
  }
  return uses;
}

/** A require(), require.resolve() or import() call, into `uses`; any other call is left alone. */
function readCall(module: ParsedModule, source: ts.SourceFile, node: ts.CallExpression, uses: NodeUses): void {
  const callee = node.expression;
  const arg = node.arguments[0];
  if (!arg) return;
  let kind: ImportKind | null = null;
  if (isIdentifier(callee) && callee.text === 'require' && node.arguments.length === 1) kind = 'require';
  else if (callee.kind === SyntaxKind.ImportKeyword) kind = 'dynamic-import';
  else if (isPropertyAccessExpression(callee) && isIdentifier(callee.expression) && callee.expression.text === 'require' && callee.name.text === 'resolve') {
    kind = 'require-resolve';
  }
  if (kind === null) return;
  if (kind === 'require') uses.cjs = true;
  if (literalText(arg) === null) {
    const { line, column } = positionOf(module, arg);
    uses.unresolved.push({ column, file: module.path, line, reason: 'non-literal', specifier: arg.getText(source) });
  } else {
    const binding = requireBinding(node);
    uses.calls.push({ node, specifierNode: arg, kind, names: binding.names, locals: binding.locals, declaredTypeOnly: false });
  }
}

/** The module's imports (declared first, then calls in walk order) resolved to edges, packages and built-ins. */
function resolveImports(
  module: ParsedModule,
  source: ts.SourceFile,
  root: string,
  resolver: ModuleResolver,
  declared: { raw: RawImport[]; esm: boolean },
  uses: NodeUses,
): ModuleImports {
  const { valueNames, propertyReads, destructured } = uses;
  const unresolved = uses.unresolved;

  /** Property names read on the given local bindings anywhere in the file (`db.Comment` → Comment). */
  const membersUsed = (locals: string[]): string[] => {
    if (locals.length === 0) return [];
    const wanted = new Set(locals);
    const found = new Set<string>();
    for (const read of propertyReads) if (wanted.has((read.expression as ts.Identifier).text)) found.add(read.name.text);
    for (const declaration of destructured) {
      if (!wanted.has((declaration.initializer as ts.Identifier).text)) continue;
      for (const element of (declaration.name as ts.ObjectBindingPattern).elements) {
        const key = element.propertyName ?? element.name;
        if (isIdentifier(key) && !element.dotDotDotToken) found.add(key.text);
      }
    }
    return [...found].sort();
  };

  const edges: ImportEdge[] = [];
  const externals = new Set<string>();
  const builtins = new Set<string>();
  for (const entry of [...declared.raw, ...uses.calls]) {
    const { line, column } = positionOf(module, entry.node);
    // The parser accepts any expression after `from` or inside `import x = require(…)`; only the checker
    // insists on a string, so a file without syntax errors can still have a non-literal specifier here.
    const specifier = literalText(entry.specifierNode);
    if (specifier === null) {
      unresolved.push({ column, file: module.path, line, reason: 'non-literal', specifier: entry.specifierNode.getText(source) });
      continue;
    }
    const resolved = resolver.resolve(module.file, specifier);
    if (resolved.kind === 'external') {
      if (!entry.declaredTypeOnly) externals.add(resolved.packageName);
    } else if (resolved.kind === 'builtin') {
      builtins.add(resolved.name);
    } else if (resolved.kind === 'internal') {
      const usedAsValue =
        entry.kind !== 'import' || entry.locals.length === 0 || valueNames === null || entry.locals.some((local) => valueNames.has(local));
      // Keys in sorted order, as the analysis file has them (see sortKeysDeep).
      edges.push({
        from: module.path,
        kind: entry.kind,
        line,
        members: entry.names.includes('*') ? membersUsed(entry.locals) : [],
        names: [...new Set(entry.names)].sort(),
        specifier,
        through: [],
        to: toRepoPath(root, resolved.file),
        typeOnly: entry.declaredTypeOnly || !usedAsValue,
      });
    } else if (resolved.kind === 'missing') {
      unresolved.push(
        resolved.differsInCase
          ? { column, existing: toRepoPath(root, resolved.differsInCase), file: module.path, line, reason: 'case-mismatch', specifier }
          : { column, file: module.path, line, reason: 'missing-file', specifier },
      );
    }
  }
  return { edges, unresolved, externals, builtins, format: declared.esm || !uses.cjs ? 'esm' : 'cjs' };
}

function requireBinding(call: ts.CallExpression): { names: string[]; locals: string[] } {
  const parent = call.parent;
  if (isVariableDeclaration(parent)) {
    if (isIdentifier(parent.name)) return { names: ['*'], locals: [parent.name.text] };
    if (isObjectBindingPattern(parent.name)) {
      const names: string[] = [];
      const locals: string[] = [];
      for (const element of parent.name.elements) {
        const key = element.propertyName ?? element.name;
        if (isIdentifier(key)) names.push(key.text);
        if (isIdentifier(element.name)) locals.push(element.name.text);
      }
      return { names, locals };
    }
  }
  if (isPropertyAccessExpression(parent) && parent.expression === call) return { names: [parent.name.text], locals: [] };
  return { names: ['*'], locals: [] };
}

function isModuleExportsAssignment(expression: ts.Expression, source: ts.SourceFile): boolean {
  if (!isBinaryExpression(expression) || expression.operatorToken.kind !== SyntaxKind.EqualsToken) return false;
  // Every assignment statement comes here: look at the first characters before taking the text.
  const start = expression.left.getStart(source);
  if (!source.text.startsWith('module.exports', start) && !source.text.startsWith('exports.', start)) return false;
  const text = expression.left.getText(source);
  return text === 'module.exports' || text.startsWith('module.exports.') || text.startsWith('exports.');
}
