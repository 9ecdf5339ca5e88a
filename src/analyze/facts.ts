import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';
import type { DataAccess, EntityKind, Hazard, HazardKind } from '../model/analysis.js';
import { type Evaluator, type Value, bindingNames } from './evaluator.js';
import { INSIDE_FUNCTION, type ParsedModule, type TreeWalk, isFunctionLike, literalText, positionOf } from './parsed-module.js';

// Bound once instead of read from `ts` at every use (see the note on `ts` in parsed-module.ts).
const { forEachChild, isArrayLiteralExpression, isAsExpression, isAwaitExpression, isBinaryExpression,
  isCallExpression, isClassDeclaration, isDeleteExpression, isElementAccessExpression, isIdentifier, isNewExpression,
  isNonNullExpression, isNoSubstitutionTemplateLiteral, isObjectLiteralExpression, isParenthesizedExpression,
  isPostfixUnaryExpression, isPrefixUnaryExpression, isPropertyAccessExpression, isSatisfiesExpression, isSourceFile,
  isStringLiteral, isTemplateHead, isVariableDeclaration, isVariableStatement, NodeFlags, SyntaxKind } = typescript;

/** Method names that read or write data, across the ORMs and stores we recognise. */
const WRITE_METHODS = new Set([
  'insert', 'insertOne', 'insertMany', 'create', 'createMany', 'bulkCreate', 'update', 'updateOne', 'updateMany',
  'upsert', 'save', 'delete', 'deleteOne', 'deleteMany', 'destroy', 'remove', 'del', 'truncate', 'increment',
  'decrement', 'findOneAndUpdate', 'findByIdAndUpdate', 'findOneAndDelete', 'findByIdAndDelete', 'findOneAndRemove',
  'findByIdAndRemove', 'findOneAndReplace', 'replaceOne', 'bulkWrite', 'restore', 'softDelete', 'insertAndFetch',
  'patch', 'set', 'clear',
]);
const READ_METHODS = new Set([
  'find', 'findAll', 'findOne', 'findById', 'findByPk', 'findMany', 'findFirst', 'findUnique', 'findFirstOrThrow',
  'findUniqueOrThrow', 'findAndCountAll', 'findAndCount', 'findOneBy', 'findBy', 'findOneOrFail', 'count', 'countDocuments',
  'estimatedDocumentCount', 'aggregate', 'distinct', 'exists', 'where', 'select', 'first', 'pluck', 'all', 'get',
  'groupBy', 'max', 'min', 'sum', 'avg', 'populate', 'query', 'createQueryBuilder',
]);

export interface EntityDefinition {
  name: string;
  kind: EntityKind;
  module: string;
  line: number;
}

export interface EntityAccess extends DataAccess {
  entity: string;
  kind: EntityKind;
}

export interface EnvAccess {
  name: string;
  module: string;
  line: number;
}

export interface ModuleFacts {
  definitions: EntityDefinition[];
  accesses: EntityAccess[];
  env: EnvAccess[];
  hazards: Hazard[];
}

const SQL_STATEMENT = /^\s*(select|insert|update|delete|with)\b/i;
const SQL_TABLES: Array<{ pattern: RegExp; mode: 'read' | 'write'; verb: string }> = [
  { pattern: /\binsert\s+(?:ignore\s+)?into\s+[`"[]?([A-Za-z_][\w.]*)/gi, mode: 'write', verb: 'INSERT' },
  { pattern: /\bupdate\s+[`"[]?([A-Za-z_][\w.]*)[`"\]]?\s+set\b/gi, mode: 'write', verb: 'UPDATE' },
  { pattern: /\bdelete\s+from\s+[`"[]?([A-Za-z_][\w.]*)/gi, mode: 'write', verb: 'DELETE' },
  { pattern: /\b(?:from|join)\s+[`"[]?([A-Za-z_][\w.]*)/gi, mode: 'read', verb: 'SELECT' },
];
const TIMER_CALLS = new Set(['setInterval']);
const FS_WRITES = new Set(['mkdir', 'mkdirSync', 'unlink', 'unlinkSync', 'rm', 'rmSync', 'writeFile', 'writeFileSync', 'appendFile', 'appendFileSync', 'createWriteStream', 'copyFile', 'copyFileSync', 'rename', 'renameSync', 'outputFile', 'outputFileSync', 'writeJson', 'writeJsonSync']);
const MUTATING_METHODS = new Set(['set', 'add', 'push', 'delete', 'clear', 'splice', 'unshift', 'pop', 'shift', 'sort', 'reverse', 'fill']);
const CACHE_LIBRARIES = new Set(['lru-cache', 'node-cache', 'memory-cache', 'quick-lru', 'cache-manager']);

/**
 * One pass over a module for everything that is not an import or a route: entity definitions and
 * reads/writes, `process.env` reads, and the state that breaks when the app runs as several replicas.
 */
export interface FactOptions {
  /** Raw SQL strings count as data access only in projects that use a SQL client. */
  readsSql: boolean;
}

/** Packages whose presence means SQL strings in the code are really run against a database. */
export const SQL_CLIENTS = ['pg', 'pg-promise', 'postgres', 'mysql', 'mysql2', 'sqlite3', 'better-sqlite3', 'mssql', 'oracledb', 'tedious', 'knex', 'sequelize', 'typeorm', 'slonik', '@prisma/client', 'sql.js', '@neondatabase/serverless', '@vercel/postgres', 'kysely', 'drizzle-orm'];

export function extractFacts(module: ParsedModule, walk: TreeWalk, evaluator: Evaluator, options: FactOptions = { readsSql: true }): ModuleFacts {
  const facts: ModuleFacts = { definitions: [], accesses: [], env: [], hazards: [] };
  // One tree for the whole pass (the walk's): declarations found in it are compared by identity.
  const source = walk.source;
  const stateCandidates = moduleLevelState(module, source, evaluator);
  const reportedState = new Set<ts.Node>();

  const hazard = (kind: HazardKind, node: ts.Node, symbol: string | null, message: string) => {
    const { line, column } = positionOf(module, node);
    facts.hazards.push({ column, file: module.path, kind, line, message, symbol });
  };

  // `inside`: the node is inside a function (some ancestor is function-like).
  const visit = (node: ts.Node, inside: boolean): void => {
    if (isCallExpression(node) || isNewExpression(node)) inspectCall(node, inside);
    if (isPropertyAccessExpression(node) || isElementAccessExpression(node)) inspectEnv(node);
    if (isVariableDeclaration(node) && !isIdentifier(node.name) && node.initializer && isProcessEnv(evaluator.evaluate(module, node.initializer))) {
      for (const name of bindingNames(node.name)) facts.env.push({ line: positionOf(module, node).line, module: module.path, name });
    }
    if (options.readsSql && (isStringLiteral(node) || isNoSubstitutionTemplateLiteral(node) || isTemplateHead(node))) inspectSql(node);
    if (isClassDeclaration(node)) inspectClass(node);
    if (inside && stateCandidates.size > 0) inspectMutation(node);
  };

  const inspectClass = (node: ts.ClassDeclaration) => {
    const value = evaluator.evaluate(module, node.name ?? node);
    const declared = node.name ? evaluator.evaluateDeclaration(module, node, node.name.text) : value;
    if (declared.k === 'entity') facts.definitions.push({ name: declared.name, kind: declared.kind, module: module.path, line: positionOf(module, node).line });
  };

  const inspectCall = (node: ts.CallExpression | ts.NewExpression, inside: boolean) => {
    const callee = node.expression;
    const value = isCallExpression(node) ? evaluator.evaluate(module, node) : evaluator.evaluate(module, node);
    const method = isPropertyAccessExpression(callee) ? callee.name.text : null;
    // Entity definitions: the call itself produced an entity and is not a method call on one.
    if (value.k === 'entity' && isCallExpression(node) && !(method && evaluator.evaluate(module, (callee as ts.PropertyAccessExpression).expression).k === 'entity')) {
      if (isDefinitionCall(method, node)) facts.definitions.push({ name: value.name, kind: value.kind, module: module.path, line: positionOf(module, node).line });
    }
    if (method && isCallExpression(node) && (READ_METHODS.has(method) || WRITE_METHODS.has(method))) {
      const receiver = evaluator.evaluate(module, (callee as ts.PropertyAccessExpression).expression);
      const entity = entityOf(receiver);
      if (entity) {
        facts.accesses.push({
          entity: entity.name,
          kind: entity.kind,
          module: module.path,
          line: positionOf(module, node).line,
          operation: method,
          mode: WRITE_METHODS.has(method) ? 'write' : 'read',
        });
      }
    }
    inspectHazardCall(node, method, inside);
  };

  const inspectHazardCall = (node: ts.CallExpression | ts.NewExpression, method: string | null, inside: boolean) => {
    const target = evaluator.evaluate(module, node.expression);
    if (target.k !== 'external') {
      if (isIdentifier(node.expression) && TIMER_CALLS.has(node.expression.text) && !evaluator.lookup(node.expression, node.expression.text)) {
        hazard('timer', node, null, 'setInterval runs in every replica: the job runs N times, and stops when that replica is scaled away; move it to a single scheduled worker (a Kubernetes CronJob or a queue).');
      }
      return;
    }
    const pkg = target.pkg;
    const last = target.path.at(-1) ?? '';
    if (pkg === '<global>' && TIMER_CALLS.has(last)) {
      hazard('timer', node, null, 'setInterval runs in every replica: the job runs N times, and stops when that replica is scaled away; move it to a single scheduled worker (a Kubernetes CronJob or a queue).');
    } else if ((pkg === 'node-cron' && last === 'schedule') || (pkg === 'cron' && last === 'CronJob') || (pkg === 'node-schedule' && last === 'scheduleJob')) {
      hazard('timer', node, null, 'a cron job inside the web process runs once per replica; run it as one scheduled job instead.');
    } else if ((pkg === 'node:fs' || pkg === 'fs-extra' || pkg === 'graceful-fs') && FS_WRITES.has(last)) {
      hazard('local-disk', node, null, "writes to the container's local disk: other replicas cannot see the file and it is lost on restart; use object storage or a volume.");
    } else if (pkg === 'multer' && (last === 'diskStorage' || (target.path.length === 0 && hasOption(node, 'dest')))) {
      hazard('local-disk', node, null, 'uploads are stored on local disk: a replica cannot serve a file another replica received; store uploads in object storage.');
    } else if (pkg === 'express-session' && target.path.length === 0 && !hasOption(node, 'store')) {
      hazard('in-memory-session', node, null, "express-session without a store keeps sessions in this process's memory: a user's next request to another replica is logged out; use a shared store such as Redis.");
    } else if ((pkg === 'express-session' || pkg === 'memorystore') && last === 'MemoryStore') {
      hazard('in-memory-session', node, null, 'a MemoryStore keeps sessions per process; use a shared store such as Redis.');
    } else if ((pkg === 'socket.io' && (target.path.length === 0 || last === 'Server')) || (pkg === 'ws' && (last === 'Server' || last === 'WebSocketServer'))) {
      hazard('websocket', node, null, 'WebSocket connections and rooms live in one replica: broadcasts miss clients on other replicas; use sticky sessions and a pub/sub adapter (e.g. Redis).');
    } else if ((pkg === 'express-rate-limit' || pkg === 'express-slow-down') && target.path.length <= 1 && !hasOption(node, 'store')) {
      hazard('module-state', node, variableNameOf(node), 'the rate limiter counts requests in this process: with N replicas a client gets N times the limit; give it a shared store (e.g. rate-limit-redis).');
    } else if (CACHE_LIBRARIES.has(pkg) && isNewExpression(node) && !inside) {
      hazard('in-process-cache', node, variableNameOf(node), 'an in-process cache differs per replica and serves stale data after another replica writes; use a shared cache (Redis) or invalidate across replicas.');
    }
    void method;
  };

  const inspectEnv = (node: ts.PropertyAccessExpression | ts.ElementAccessExpression) => {
    if (!isProcessEnv(evaluator.evaluate(module, node.expression))) return;
    const name = isPropertyAccessExpression(node) ? node.name.text : literalText(node.argumentExpression);
    if (name) facts.env.push({ line: positionOf(module, node).line, module: module.path, name });
  };

  const inspectSql = (node: ts.StringLiteral | ts.NoSubstitutionTemplateLiteral | ts.TemplateHead) => {
    const text = node.text;
    if (!SQL_STATEMENT.test(text)) return;
    const line = positionOf(module, node).line;
    const seen = new Set<string>();
    for (const { pattern, mode, verb } of SQL_TABLES) {
      pattern.lastIndex = 0;
      for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
        const table = match[1]!.toLowerCase();
        const key = `${table}:${mode}`;
        if (seen.has(key) || SQL_KEYWORDS.has(table)) continue;
        seen.add(key);
        facts.accesses.push({ entity: table, kind: 'sql', module: module.path, line, operation: verb, mode });
      }
    }
  };

  const inspectMutation = (node: ts.Node) => {
    let target: ts.Node | undefined;
    if (isBinaryExpression(node) && isAssignmentOperator(node.operatorToken.kind)) target = node.left;
    else if ((isPrefixUnaryExpression(node) || isPostfixUnaryExpression(node)) && (node.operator === SyntaxKind.PlusPlusToken || node.operator === SyntaxKind.MinusMinusToken)) target = node.operand;
    else if (isDeleteExpression(node)) target = node.expression;
    else if (isCallExpression(node) && isPropertyAccessExpression(node.expression) && MUTATING_METHODS.has(node.expression.name.text)) target = node.expression.expression;
    if (!target) return;
    // Lazy singletons, server handles and one-way init flags (`client = create()`, `ready = true`) are not
    // state that diverges between replicas.
    if (isBinaryExpression(node) && node.operatorToken.kind === SyntaxKind.EqualsToken && isInitialisation(node.right)) return;
    // A registry that stores objects it constructs (`m.set(k, new Table(k))`) holds no request data:
    // every replica builds the same instances.
    if (isCallExpression(node) && (node.expression as ts.PropertyAccessExpression).name.text === 'set' && isFreshInstance(node.arguments[1], evaluator)) return;
    const root = rootIdentifier(target);
    if (!root) return;
    const declaration = evaluator.lookup(root, root.text);
    const candidate = declaration && stateCandidates.get(declaration);
    if (!candidate || reportedState.has(declaration)) return;
    // A `let` that is only re-assigned (not a container) counts only when assigned directly.
    if (candidate.reassignOnly && root !== target) return;
    reportedState.add(declaration);
    const isCache = candidate.cacheLike;
    const kind: HazardKind = isCache ? 'in-process-cache' : 'module-state';
    const { line, column } = positionOf(module, declaration);
    facts.hazards.push({
      column,
      file: module.path,
      kind,
      line,
      message: isCache
        ? `\`${root.text}\` is an in-process cache changed at run time: each replica holds its own copy and serves stale data after a write elsewhere; use a shared cache (Redis).`
        : `\`${root.text}\` is module-level state changed at run time: each replica has its own copy, so counts, limits or flags diverge between replicas; keep it in a shared store.`,
      symbol: root.text,
    });
  };

  const { nodes, flags } = walk;
  for (let index = 0; index < nodes.length; index += 1) visit(nodes[index]!, (flags[index]! & INSIDE_FUNCTION) !== 0);
  return facts;
}

const SQL_KEYWORDS = new Set(['select', 'where', 'set', 'values', 'dual', 'lateral', 'unnest', 'generate_series']);

function isDefinitionCall(method: string | null, node: ts.CallExpression): boolean {
  if (method === 'table' || method === 'collection' || method === 'define' || method === 'model') return true;
  // knex('users') and mongoose.model are definitions only where the entity is first named; accesses are recorded separately.
  return isIdentifier(node.expression) && node.expression.text === 'model';
}

function entityOf(value: Value): { name: string; kind: EntityKind } | null {
  if (value.k === 'entity') return value;
  if (value.k === 'external' && value.pkg === '@prisma/client' && value.path[0] === '<client>' && value.path.length === 2) {
    return { name: value.path[1]!, kind: 'prisma' };
  }
  return null;
}

function isProcessEnv(value: Value): boolean {
  return value.k === 'external' && value.pkg === '<global>' && value.path.join('.') === 'process.env';
}

function hasOption(node: ts.CallExpression | ts.NewExpression, name: string): boolean {
  const options = node.arguments?.[0];
  return !!options && isObjectLiteralExpression(options) && options.properties.some((p) => p.name && isIdentifier(p.name) && p.name.text === name);
}

function variableNameOf(node: ts.Node): string | null {
  const parent = node.parent;
  return isVariableDeclaration(parent) && isIdentifier(parent.name) ? parent.name.text : null;
}

function isAssignmentOperator(kind: ts.SyntaxKind): boolean {
  return kind >= SyntaxKind.FirstAssignment && kind <= SyntaxKind.LastAssignment;
}

function rootIdentifier(node: ts.Node): ts.Identifier | null {
  let current = node;
  while (isPropertyAccessExpression(current) || isElementAccessExpression(current) || isParenthesizedExpression(current) || isNonNullExpression(current)) {
    current = current.expression;
  }
  return isIdentifier(current) ? current : null;
}

function isInitialisation(node: ts.Expression): boolean {
  let inner = node;
  while (isAwaitExpression(inner) || isParenthesizedExpression(inner) || isAsExpression(inner)) inner = inner.expression;
  return (
    isCallExpression(inner) ||
    isNewExpression(inner) ||
    inner.kind === SyntaxKind.TrueKeyword ||
    inner.kind === SyntaxKind.NullKeyword ||
    (isIdentifier(inner) && inner.text === 'undefined')
  );
}

function isFreshInstance(node: ts.Expression | undefined, evaluator: Evaluator): boolean {
  if (!node) return false;
  if (isNewExpression(node)) return true;
  if (!isIdentifier(node)) return false;
  const declaration = evaluator.lookup(node, node.text);
  if (!declaration || !isVariableDeclaration(declaration)) return false;
  if (declaration.initializer && isNewExpression(declaration.initializer)) return true;
  // `let t = m.get(k); if (!t) { t = new T(); m.set(k, t); }`
  let scope: ts.Node | undefined = declaration.parent;
  while (scope && !isFunctionLike(scope) && !isSourceFile(scope)) scope = scope.parent;
  let assignedNew = false;
  let assignedOther = false;
  const visit = (child: ts.Node): void => {
    if (isBinaryExpression(child) && child.operatorToken.kind === SyntaxKind.EqualsToken && isIdentifier(child.left) && child.left.text === node.text) {
      if (isNewExpression(child.right)) assignedNew = true;
      else assignedOther = true;
    }
    forEachChild(child, visit);
  };
  if (scope) forEachChild(scope, visit);
  return assignedNew && !assignedOther;
}

interface StateCandidate {
  cacheLike: boolean;
  reassignOnly: boolean;
}

/** Module-level variables that could hold per-process state: containers, and `let` bindings. */
function moduleLevelState(module: ParsedModule, source: ts.SourceFile, evaluator: Evaluator): Map<ts.Node, StateCandidate> {
  const out = new Map<ts.Node, StateCandidate>();
  for (const statement of source.statements) {
    if (!isVariableStatement(statement)) continue;
    const isLet = (statement.declarationList.flags & NodeFlags.Let) !== 0;
    for (const declaration of statement.declarationList.declarations) {
      if (!isIdentifier(declaration.name)) continue;
      const name = declaration.name.text;
      const init = declaration.initializer;
      const container = init !== undefined && isContainer(init);
      if (!container && !isLet) continue;
      if (init && !container) {
        const value = evaluator.evaluate(module, init);
        if (value.k === 'router' || value.k === 'entity' || (value.k === 'external' && value.pkg !== '<global>')) continue;
        if (isCallExpression(init) || isNewExpression(init) || isFunctionLike(init)) continue;
      }
      out.set(declaration, {
        cacheLike: /cache|memo/i.test(name) || (init !== undefined && isNewExpression(init) && /LRU|Cache/.test(init.expression.getText())),
        reassignOnly: !container,
      });
    }
  }
  return out;
}

function isContainer(node: ts.Expression): boolean {
  let inner: ts.Expression = node;
  while (isAsExpression(inner) || isSatisfiesExpression(inner) || isParenthesizedExpression(inner)) inner = inner.expression;
  if (isArrayLiteralExpression(inner) || isObjectLiteralExpression(inner)) return true;
  return isNewExpression(inner) && /^(Map|Set|WeakMap|Array|Object)$/.test(inner.expression.getText());
}
