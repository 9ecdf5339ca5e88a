import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';
import type { ImportEdge, ImportKind, UnresolvedImport } from '../model/analysis.js';
import { toRepoPath } from '../util/paths.js';
import { type ParsedModule, type TreeWalk, VALUE_POSITION, literalText, positionOf } from './parsed-module.js';
import type { ModuleResolver } from './resolver.js';

// Bound once instead of read from `ts` at every use (see the note on `ts` in parsed-module.ts).
const { canHaveModifiers, getModifiers, isBinaryExpression, isCallExpression, isExportAssignment, isExportDeclaration,
  isExportSpecifier, isExpressionStatement, isExternalModuleReference, isIdentifier, isImportDeclaration,
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
  const raw: RawImport[] = [];
  let esm = false;
  let cjs = false;
  const source = walk.source;

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

  // One pass over the module's nodes collects three things: calls anywhere in the file (require, require.resolve,
  // import()); the property reads on identifiers (`db.Comment`), for namespace imports; and, in TypeScript, which
  // of the names bound by import declarations are referenced in value positions (see VALUE_POSITION).
  const unresolved: UnresolvedImport[] = [];
  const valueNames = module.language === 'ts' ? new Set<string>() : null;
  // Only the names `import` declarations bind are ever looked up in valueNames; none, nothing to track.
  const importLocals = new Set(raw.flatMap((entry) => (entry.kind === 'import' ? entry.locals : [])));
  const trackValues = valueNames !== null && importLocals.size > 0;
  const propertyReads: ts.PropertyAccessExpression[] = [];
  // `const { Report } = db`: members read by destructuring a namespace binding.
  const destructured: ts.VariableDeclaration[] = [];
  const { nodes, flags } = walk;
  for (let index = 0; index < nodes.length; index += 1) {
    const node = nodes[index]!;
    if (isCallExpression(node)) {
      const callee = node.expression;
      const arg = node.arguments[0];
      let kind: ImportKind | null = null;
      if (isIdentifier(callee) && callee.text === 'require' && node.arguments.length === 1) kind = 'require';
      else if (callee.kind === SyntaxKind.ImportKeyword) kind = 'dynamic-import';
      else if (isPropertyAccessExpression(callee) && isIdentifier(callee.expression) && callee.expression.text === 'require' && callee.name.text === 'resolve') {
        kind = 'require-resolve';
      }
      if (kind && arg) {
        if (kind === 'require') cjs = true;
        if (literalText(arg) === null) {
          const { line, column } = positionOf(module, arg);
          unresolved.push({ file: module.path, line, column, specifier: arg.getText(source), reason: 'non-literal' });
        } else {
          const binding = requireBinding(node);
          raw.push({ node, specifierNode: arg, kind, names: binding.names, locals: binding.locals, declaredTypeOnly: false });
        }
      }
    } else if (isExpressionStatement(node) && isModuleExportsAssignment(node.expression, source)) {
      cjs = true;
    }
    if (isPropertyAccessExpression(node) && isIdentifier(node.expression)) propertyReads.push(node);
    else if (isVariableDeclaration(node) && node.initializer && isIdentifier(node.initializer) && isObjectBindingPattern(node.name)) destructured.push(node);
    if (!trackValues || (flags[index]! & VALUE_POSITION) === 0) continue;
    if (isIdentifier(node)) {
      if (importLocals.has(node.text)) valueNames!.add(node.text);
    } else if (isExportSpecifier(node)) {
      const name = (node.propertyName ?? node.name).text;
      if (!node.isTypeOnly && !node.parent.parent.isTypeOnly && importLocals.has(name)) valueNames!.add(name);
    }
  }

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
  for (const entry of raw) {
    const { line, column } = positionOf(module, entry.node);
    // The parser accepts any expression after `from` or inside `import x = require(…)`; only the checker
    // insists on a string, so a file without syntax errors can still have a non-literal specifier here.
    const specifier = literalText(entry.specifierNode);
    if (specifier === null) {
      unresolved.push({ file: module.path, line, column, specifier: entry.specifierNode.getText(source), reason: 'non-literal' });
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
      unresolved.push({ file: module.path, line, column, specifier, reason: 'missing-file' });
    }
  }
  return { edges, unresolved, externals, builtins, format: esm || !cjs ? 'esm' : 'cjs' };
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
