import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import type { Plan } from '../model/plan.js';
import { testPlan } from '../test-support/plans.js';
import { writeProject } from '../test-support/temp-project.js';
import { buildLayout } from './layout.js';
import { type ExtractedUnit, type SourceSet, extractCode, styled } from './service-code.js';

function plan(project: string, services: Record<string, string[]>, libraries: Record<string, string[]>, entrypoints: string[]): Plan {
  return testPlan({
    project,
    services: Object.entries(services).map(([name, modules]) => ({ name, modules, replicas: { min: 2, max: 4 }, moduleCount: modules.length })),
    sharedLibraries: Object.entries(libraries).map(([name, modules]) => ({ name, modules })),
    entrypoints,
  });
}

async function extract(files: Record<string, string>, p: (project: string) => Plan) {
  const dir = writeProject(files);
  const analysis = await analyze({ dir });
  const sources: SourceSet = Object.fromEntries(Object.entries(files).filter(([f]) => /\.[cm]?[jt]s$/.test(f)));
  const thePlan = p(analysis.project.name);
  const layout = buildLayout(thePlan, analysis);
  const tsconfig = files['tsconfig.json'] ? (JSON.parse(files['tsconfig.json']) as { compilerOptions: { paths?: Record<string, string[]> } }) : null;
  return { layout, code: extractCode(layout, analysis, thePlan, sources, { paths: tsconfig?.compilerOptions.paths }) };
}

const unitOf = (units: ExtractedUnit[], name: string) => units.find((u) => u.unit.name === name)!;
const fileOf = (unit: ExtractedUnit, path: string) => unit.files.find((f) => f.path === path)?.content;

const ESM_APP: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'mini', type: 'module', dependencies: { express: '^4.21.2' } }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, paths: { '@shared/*': ['./src/shared/*'] } } }),
  'src/shared/errors.ts': 'export class AppError extends Error {\n  constructor(readonly status: number, message: string) {\n    super(message);\n  }\n}\n',
  'src/shared/db.ts':
    'export class Table<T> {\n  rows: T[] = [];\n  constructor(readonly name: string) {}\n  async findAll(): Promise<T[]> {\n    return this.rows;\n  }\n  async insert(row: T): Promise<T> {\n    this.rows.push(row);\n    return row;\n  }\n}\nexport const db = {\n  table<T>(name: string): Table<T> {\n    return new Table<T>(name);\n  },\n};\n',
  'src/users/user.types.ts': "export interface User {\n  id: string;\n  email: string;\n}\nexport function normalizeEmail(email: string): string {\n  return email.trim().toLowerCase();\n}\n",
  'src/users/user.repository.ts':
    "import { db } from '@shared/db.js';\nimport type { User } from './user.types.js';\n\nexport const usersTable = db.table<User>('users');\n\nexport async function findUserByEmail(email: string): Promise<User | undefined> {\n  return (await usersTable.findAll()).find((u) => u.email === email);\n}\n\nexport async function insertUser(user: User): Promise<User> {\n  return usersTable.insert(user);\n}\n",
  'src/users/users.routes.ts': "import { Router } from 'express';\nimport { findUserByEmail } from './user.repository.js';\n\nexport const usersRouter = Router();\nusersRouter.get('/:email', async (req, res) => {\n  res.json((await findUserByEmail(req.params.email)) ?? null);\n});\n",
  'src/users/seed.ts': "import { insertUser } from './user.repository.js';\n\nexport async function seedUsers(): Promise<void> {\n  await insertUser({ id: '1', email: 'admin@x' });\n}\n",
  'src/auth/auth.service.ts':
    "import { AppError } from '../shared/errors.js';\nimport { findUserByEmail, usersTable } from '../users/user.repository.js';\nimport { normalizeEmail, type User } from '../users/user.types.js';\n\nexport async function login(email: string): Promise<User> {\n  const user = await findUserByEmail(normalizeEmail(email));\n  if (!user) throw new AppError(401, 'no such user');\n  return user;\n}\n\nexport async function countUsers(): Promise<number> {\n  return (await usersTable.findAll()).length;\n}\n",
  'src/auth/auth.routes.ts': "import { Router } from 'express';\nimport { login } from './auth.service.js';\n\nconst authRouter = Router();\nauthRouter.post('/login', async (req, res) => {\n  res.json(await login(String(req.query.email)));\n});\nexport default authRouter;\n",
  'src/routes.ts':
    "import { Router } from 'express';\nimport authRouter from './auth/auth.routes.js';\nimport { usersRouter } from './users/users.routes.js';\n\nexport const api = Router();\napi.use('/auth', authRouter);\napi.use('/users', usersRouter);\napi.get('/version', (_req, res) => {\n  res.json({ version: 1 });\n});\n",
  'src/app.ts':
    "import express from 'express';\nimport { api } from './routes.js';\nimport { seedUsers } from './users/seed.js';\n\nexport const app = express();\napp.use(express.json());\napp.use('/api', api);\n\nexport const ready: Promise<void> = seedUsers();\n",
  'src/server.ts': "import { app, ready } from './app.js';\n\nawait ready;\nconst server = app.listen(Number(process.env.PORT ?? 3000), () => {\n  console.log('listening');\n});\nprocess.on('SIGTERM', () => server.close());\n",
};

const esmPlan = (project: string) =>
  plan(project, { auth: ['src/auth/**'], users: ['src/users/**'] }, { shared: ['src/shared/**'] }, ['src/app.ts', 'src/routes.ts', 'src/server.ts', 'src/users/seed.ts']);

describe('extractCode on an ES module TypeScript app', () => {
  it('places entries: wiring modules are composition, a seeding helper of one service belongs to it', async () => {
    const { layout } = await extract(ESM_APP, esmPlan);
    expect(layout.compositionEntries).toEqual(['src/app.ts', 'src/routes.ts', 'src/server.ts']);
    expect(layout.placement['src/users/seed.ts']).toEqual({ kind: 'service', name: 'users' });
    expect(layout.statelessModules).toContain('src/users/user.types.ts');
    expect(layout.libraries.map((l) => [l.name, l.packageName])).toEqual([['shared', '@mini/shared']]);
  });

  it("prunes the other services' routers from the copied wiring, cascading through what it stops exporting", async () => {
    const { code } = await extract(ESM_APP, esmPlan);
    const auth = unitOf(code.units, 'auth');
    const routes = fileOf(auth, 'src/routes.ts')!;
    expect(routes).toContain("api.use('/auth', authRouter);");
    expect(routes).not.toContain('usersRouter');
    expect(routes).toContain("api.get('/version'"); // the wiring's own routes stay in every service
    const app = fileOf(auth, 'src/app.ts')!;
    expect(app).not.toContain('seedUsers');
    expect(app).not.toContain('export const ready');
    const server = fileOf(auth, 'src/server.ts')!;
    expect(server).not.toContain('await ready');
    expect(server).toContain("import { app } from './app.js';");
    // users keeps its router and its seeding.
    const users = unitOf(code.units, 'users');
    expect(fileOf(users, 'src/routes.ts')).toContain("api.use('/users', usersRouter);");
    expect(fileOf(users, 'src/routes.ts')).not.toContain('authRouter');
    expect(fileOf(users, 'src/app.ts')).toContain('export const ready: Promise<void> = seedUsers();');
    expect(fileOf(users, 'src/server.ts')).toContain('await ready;');
  });

  it('hands app.listen to the runtime and keeps the monolith shutdown code compiling', async () => {
    const { code } = await extract(ESM_APP, esmPlan);
    const server = fileOf(unitOf(code.units, 'auth'), 'src/server.ts')!;
    expect(server).toContain("import { serve } from '@mini/runtime';");
    expect(server).toContain("const server = serve(app, Number(process.env.PORT ?? 3000), () => {");
    expect(unitOf(code.units, 'auth').serverEntry).toBe('src/server.ts');
  });

  it('rewrites shared imports (relative and alias) to the shared package', async () => {
    const { code } = await extract(ESM_APP, esmPlan);
    const service = fileOf(unitOf(code.units, 'auth'), 'src/auth/auth.service.ts')!;
    expect(service).toContain("import { AppError } from '@mini/shared/src/shared/errors.js';");
    const repository = fileOf(unitOf(code.units, 'users'), 'src/users/user.repository.ts')!;
    expect(repository).toContain("import { db } from '@mini/shared/src/shared/db.js';");
    expect(unitOf(code.units, 'auth').libraries).toEqual(['shared']);
    expect(unitOf(code.units, 'auth').externals).toContain('express');
  });

  it('turns the other service into a facade: async functions become typed clients, tables data proxies; stateless helpers are copied', async () => {
    const { code } = await extract(ESM_APP, esmPlan);
    const auth = unitOf(code.units, 'auth');
    expect(fileOf(auth, 'src/auth/auth.service.ts')).toContain("from '../../remote/src/users/user.repository.js'");
    // user.types.ts holds no state: copied, so the synchronous normalizeEmail keeps working.
    expect(fileOf(auth, 'src/users/user.types.ts')).toContain('export function normalizeEmail');
    expect(fileOf(auth, 'src/auth/auth.service.ts')).toContain("from '../users/user.types.js'");
    const facade = auth.facades.find((f) => f.module === 'src/users/user.repository.ts')!;
    expect(facade.path).toBe('remote/src/users/user.repository.ts');
    expect(facade.owner).toBe('users');
    const byName = Object.fromEntries(facade.members.map((m) => [m.name, m]));
    expect(byName.findUserByEmail).toMatchObject({ kind: 'client', operation: 'src/users/user.repository#findUserByEmail', idempotent: true, params: 'email: string', args: 'email', returnType: 'Promise<User | undefined>' });
    expect(byName.usersTable).toMatchObject({ kind: 'data', operation: 'src/users/user.repository#usersTable' });
    expect((byName.usersTable as { type: string }).type).toBe('import("@mini/shared/src/shared/db.js").Table<User>');
    // The types the signatures name come from where the module took them.
    expect(facade.typeImports).toEqual(expect.arrayContaining([expect.objectContaining({ names: 'User', specifier: '../../../src/users/user.types.js' })]));
    // users answers what auth calls.
    expect(code.internal.users!.map((o) => `${o.kind} ${o.operation}`)).toEqual(['function src/users/user.repository#findUserByEmail', 'data src/users/user.repository#usersTable']);
    expect(code.internal.auth).toEqual([]);
  });

  it('caches the result of a call the plan lists under the caller\'s cache, tagged with what the callee reaches', async () => {
    const cached = (project: string) => {
      const p = esmPlan(project);
      p.services.find((s) => s.name === 'auth')!.cache = { 'CALL src/users/user.repository.ts#findUserByEmail': 10 };
      return p;
    };
    const { code } = await extract(ESM_APP, cached);
    const members = unitOf(code.units, 'auth').facades[0]!.members;
    expect(members.find((m) => m.name === 'findUserByEmail')).toMatchObject({ kind: 'client', cache: { ttlSeconds: 10, tags: ['users'] } });
  });

  it("keeps each specifier's quotes and kind, and prunes through names exported under an alias", async () => {
    const files = {
      ...ESM_APP,
      'src/auth/auth.service.ts': ESM_APP['src/auth/auth.service.ts']!.replace("from '../shared/errors.js'", 'from "../shared/errors.js"') +
        "export type Errors = typeof import('../shared/errors.js');\nexport async function later() {\n  return import(\"../shared/errors.js\");\n}\n",
      'src/shared/quote\'s.ts': 'export const QUOTE = 1;\n',
      'src/auth/quotes.ts': 'import { QUOTE } from "../shared/quote\'s.js";\nimport { QUOTE as Q } from \'../shared/quote\\\'s.js\';\nexport const both = QUOTE + Q;\n',
      'src/routes.ts':
        ESM_APP['src/routes.ts']! +
        "const usersOnly = usersRouter;\nexport { usersOnly as usersApi };\nexport const mountedAt = { usersRouter: '/users' };\nconsole.log(mountedAt.usersRouter);\n",
      'src/app.ts': ESM_APP['src/app.ts']!.replace("import { api } from './routes.js';", "import { api, usersApi } from './routes.js';").replace("app.use('/api', api);", "app.use('/api', api);\napp.use('/v2/users', usersApi);"),
    };
    const { code } = await extract(files, esmPlan);
    const service = fileOf(unitOf(code.units, 'auth'), 'src/auth/auth.service.ts')!;
    expect(service).toContain('import { AppError } from "@mini/shared/src/shared/errors.js";');
    expect(service).toContain("typeof import('@mini/shared/src/shared/errors.js')");
    expect(service).toContain('return import("@mini/shared/src/shared/errors.js");');
    const quotes = fileOf(unitOf(code.units, 'auth'), 'src/auth/quotes.ts')!;
    expect(quotes).toContain('import { QUOTE } from "@mini/shared/src/shared/quote\'s.js";');
    expect(quotes).toContain("import { QUOTE as Q } from '@mini/shared/src/shared/quote\\'s.js';");
    // auth's copy of the wiring loses usersApi (usersOnly was users' router), and with it app.ts's use of it.
    const auth = unitOf(code.units, 'auth');
    expect(fileOf(auth, 'src/routes.ts')).not.toContain('usersApi');
    expect(fileOf(auth, 'src/app.ts')).not.toContain('usersApi');
    expect(fileOf(auth, 'src/app.ts')).toContain("import { api } from './routes.js';");
    // A property that shares a removed binding's name is not a use of it.
    expect(fileOf(auth, 'src/routes.ts')).toContain("export const mountedAt = { usersRouter: '/users' };\nconsole.log(mountedAt.usersRouter);");
    expect(fileOf(unitOf(code.units, 'users'), 'src/app.ts')).toContain("app.use('/v2/users', usersApi);");
  });
});

const CJS_APP: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'minijs', dependencies: { express: '^4.21.2' } }),
  'lib/orm.js': "'use strict';\nconst Op = { in: Symbol('in') };\nclass Orm {\n  constructor() {\n    this.models = {};\n  }\n  define(name) {\n    const rows = [];\n    const model = { name, async findAll() { return rows; }, async create(row) { rows.push(row); return row; } };\n    this.models[name] = model;\n    return model;\n  }\n}\nmodule.exports = { Orm, Op };\n",
  'models/user.js': "'use strict';\nmodule.exports = function defineUser(sequelize) {\n  return sequelize.define('User', { email: {} });\n};\n",
  'models/post.js': "'use strict';\nmodule.exports = function definePost(sequelize) {\n  return sequelize.define('Post', { title: {} });\n};\n",
  'models/index.js': "'use strict';\nconst { Orm, Op } = require('../lib/orm');\nconst sequelize = new Orm();\nconst User = require('./user')(sequelize);\nconst Post = require('./post.js')(sequelize);\nmodule.exports = { sequelize, Op, User, Post };\n",
  'middleware/authenticate.js': "'use strict';\nconst { User } = require('../models');\n\nfunction authenticate(req, res, next) {\n  User.findAll().then((users) => {\n    req.user = users[0] || null;\n    next();\n  }, next);\n}\n\nmodule.exports = { authenticate };\n",
  'controllers/users.js': "'use strict';\nconst { User } = require('../models');\nexports.list = async (req, res) => res.json(await User.findAll());\n",
  'controllers/posts.js': "'use strict';\nconst { Post, User, Op } = require('../models');\nexports.list = async (req, res) => res.json({ posts: await Post.findAll(), users: await User.findAll(), op: typeof Op });\n",
  'routes/users.js': "'use strict';\nconst express = require('express');\nconst users = require('../controllers/users');\nconst router = express.Router();\nrouter.get('/', users.list);\nmodule.exports = router;\n",
  'routes/posts.js': "'use strict';\nconst express = require('express');\nconst { authenticate } = require('../middleware/authenticate');\nconst posts = require('../controllers/posts');\nconst router = express.Router();\nrouter.get('/', authenticate, posts.list);\nmodule.exports = router;\n",
  'routes/index.js': "'use strict';\nconst express = require('express');\nconst router = express.Router();\nrouter.use('/users', require('./users'));\nrouter.use('/posts', require('./posts'));\nmodule.exports = router;\n",
  'app.js': "'use strict';\nconst express = require('express');\nconst app = express();\napp.use('/api', require('./routes'));\nmodule.exports = app;\n",
  'server.js': "'use strict';\nconst app = require('./app');\nconst server = app.listen(3000, process.env.HOST, () => console.log('up'));\nmodule.exports = server;\n",
};

const cjsPlan = (project: string) =>
  plan(
    project,
    { users: ['models/index.js', 'models/user.js', 'middleware/authenticate.js', 'controllers/users.js', 'routes/users.js'], posts: ['models/post.js', 'controllers/posts.js', 'routes/posts.js'] },
    { shared: ['lib/orm.js'] },
    ['app.js', 'routes/index.js', 'server.js'],
  );

describe('extractCode on a CommonJS app', () => {
  it('removes inline requires of the other services from the copied wiring', async () => {
    const { code } = await extract(CJS_APP, cjsPlan);
    const posts = unitOf(code.units, 'posts');
    const routes = fileOf(posts, 'routes/index.js')!;
    expect(routes).toContain("router.use('/posts', require('./posts'));");
    expect(routes).not.toContain("require('./users')");
    expect(fileOf(posts, 'server.js')).toContain("const { serve } = require('@minijs/runtime');");
    expect(fileOf(posts, 'server.js')).toContain('const server = serve(app, 3000, process.env.HOST, () => console.log(\'up\'));');
    expect(fileOf(posts, 'server.js')!.indexOf("'use strict'")).toBeLessThan(fileOf(posts, 'server.js')!.indexOf('require('));
  });

  it('copies middleware that holds no state of its own; the data it reads stays behind proxies to the owner', async () => {
    const { code } = await extract(CJS_APP, cjsPlan);
    const posts = unitOf(code.units, 'posts');
    expect(fileOf(posts, 'middleware/authenticate.js')).toContain("require('../remote/models')");
    const facade = posts.facades.find((f) => f.module === 'models/index.js')!;
    expect(facade.format).toBe('cjs');
    expect(facade.members.map((m) => `${m.kind} ${m.name}`)).toEqual(['reexport Op', 'data Post', 'data User']);
    expect(posts.files.map((f) => f.path)).not.toContain('models/index.js'); // the registry holds the data: never copied
    expect(facade.members.find((m) => m.name === 'Op')).toMatchObject({ specifier: '@minijs/shared/lib/orm.js' });
    // The registry's owner keeps every model definition it requires (the factories are copied into it).
    const users = unitOf(code.units, 'users');
    expect(fileOf(users, 'models/post.js')).toContain('definePost');
    expect(users.notes.map((n) => `${n.kind} ${n.at}`)).toContain('copied models/post.js');
  });
});

describe('a synchronous function of another service', () => {
  const app: Record<string, string> = {
    ...CJS_APP,
    'services/mailer.js': "'use strict';\nconst outbox = [];\nfunction send(message) {\n  outbox.push(message);\n  return message;\n}\nfunction outboxSize() {\n  return outbox.length;\n}\nmodule.exports = { send, outboxSize };\n",
    'controllers/posts.js':
      "'use strict';\nconst mailer = require('../services/mailer');\nconst { Post } = require('../models');\nexports.list = async (req, res) => {\n  mailer.send({ to: 'a@x', template: 'listed' });\n  res.json({ posts: await Post.findAll(), outbox: mailer.outboxSize() });\n};\n",
    'controllers/notify.js': "'use strict';\nconst { send: deliver } = require('../services/mailer.js');\nexports.ping = () => {\n  deliver({ to: 'b@x' });\n};\n",
  };
  const withMailer = (project: string) => {
    const p = cjsPlan(project);
    p.services.find((s) => s.name === 'users')!.modules.push('services/mailer.js');
    p.services.find((s) => s.name === 'posts')!.modules.push('controllers/notify.js');
    return p;
  };

  it('becomes a call the response waits for where every use throws its result away; a function whose result is used stays a stub', async () => {
    const { code } = await extract(app, withMailer);
    const posts = unitOf(code.units, 'posts');
    const facade = posts.facades.find((f) => f.module === 'services/mailer.js')!;
    expect(facade.members.map((m) => `${m.kind} ${m.name}${m.kind === 'client' && m.deferred ? ' (deferred)' : ''}`)).toEqual(['stub outboxSize', 'client send (deferred)']);
    expect(code.internal.users!.map((op) => op.operation)).toContain('services/mailer#send');
    expect(posts.notes.filter((n) => n.kind === 'deferred').map((n) => n.at)).toEqual(['services/mailer.js:3']);
  });

  it('stays a stub when one caller uses its result', async () => {
    const used = { ...app, 'controllers/notify.js': "'use strict';\nconst { send } = require('../services/mailer.js');\nexports.ping = (req, res) => res.json(send({ to: 'b@x' }));\n" };
    const { code } = await extract(used, withMailer);
    const facade = unitOf(code.units, 'posts').facades.find((f) => f.module === 'services/mailer.js')!;
    expect(facade.members.map((m) => `${m.kind} ${m.name}`)).toEqual(['stub outboxSize', 'stub send']);
  });
});

describe('styled', () => {
  it("keeps a specifier's extension style", () => {
    expect(styled('./x.js', '../remote/src/x.ts')).toBe('../remote/src/x.js');
    expect(styled('../models', '../remote/models/index.js')).toBe('../remote/models');
    expect(styled('../models/index', '../remote/models/index.js')).toBe('../remote/models/index');
    expect(styled('./a', './b/c.ts')).toBe('./b/c');
  });
});
