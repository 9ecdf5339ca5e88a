import { describe, expect, it } from 'vitest';
import { EXPRESS_PACKAGE, writeProject } from '../test-support/temp-project.js';
import { analyze } from './analyze.js';

async function routesOf(files: Record<string, string>, entry?: string) {
  const analysis = await analyze({ dir: writeProject({ 'package.json': EXPRESS_PACKAGE, ...files }), entry });
  return { analysis, table: analysis.routes.map((r) => `${r.method} ${r.path}`) };
}

describe('route table', () => {
  it('applies mount prefixes through nested routers across modules (ESM, default and named exports)', async () => {
    const { table, analysis } = await routesOf({
      'src/app.ts': "import express from 'express';\nimport { api } from './api';\nconst app = express();\napp.use('/api', api);\nexport default app;",
      'src/api.ts': "import { Router } from 'express';\nimport orders from './orders';\nimport { adminRouter } from './admin';\nexport const api = Router();\napi.use('/orders', orders);\napi.use('/admin', adminRouter);",
      'src/orders.ts': "import { Router } from 'express';\nconst router = Router();\nrouter.get('/', (req, res) => res.json([]));\nrouter.post('/:id/cancel', (req, res) => res.end());\nexport default router;",
      'src/admin.ts': "import express from 'express';\nimport reports from './reports';\nexport const adminRouter = express.Router();\nadminRouter.use('/reports', reports);",
      'src/reports.ts': "import { Router } from 'express';\nconst r = Router();\nr.get('/sales', (q, s) => s.end());\nexport default r;",
    });
    expect(table).toEqual(['GET /api/admin/reports/sales', 'GET /api/orders', 'POST /api/orders/:id/cancel']);
    const cancel = analysis.routes.find((r) => r.path === '/api/orders/:id/cancel')!;
    expect(cancel.localPath).toBe('/:id/cancel');
    expect(cancel.mounts.map((m) => m.prefix)).toEqual(['/api', '/orders']);
    expect(analysis.project.entries).toEqual(['src/app.ts']);
  });

  it('follows CommonJS module.exports routers, require with and without extension, and index files', async () => {
    const { table } = await routesOf({
      'app.js': "const express = require('express');\nconst app = express();\napp.use('/api', require('./routes'));\napp.use('/health', require('./routes/health.js'));\nmodule.exports = app;",
      'routes/index.js': "const router = require('express').Router();\nrouter.use('/posts', require('./posts'));\nmodule.exports = router;",
      'routes/posts.js': "const express = require('express');\nconst router = express.Router();\nconst ctrl = require('../controllers/posts');\nrouter.get('/', ctrl.list);\nrouter.get('/:id', ctrl.show);\nmodule.exports = router;",
      'routes/health.js': "const { Router } = require('express');\nconst router = Router();\nrouter.get('/', (req, res) => res.send('ok'));\nmodule.exports = router;",
      'controllers/posts.js': 'exports.list = async (req, res) => res.json([]);\nexports.show = async function show(req, res) { res.json({}); };',
    });
    expect(table).toEqual(['GET /api/posts', 'GET /api/posts/:id', 'GET /health']);
  });

  it('handles route chains, router.all, router.param, middleware arrays and named handlers', async () => {
    const { analysis } = await routesOf({
      'src/app.ts': [
        "import express from 'express';",
        "import { getItem, listItems } from './items';",
        'const app = express();',
        'const auth = (req: any, res: any, next: any) => next();',
        'const guard = [auth, limit(5)];',
        'function limit(n: number) { return (req: any, res: any, next: any) => next(); }',
        "app.param('id', (req, res, next) => next());",
        "app.route('/items').get(listItems).post(guard, (req, res) => res.end());",
        "app.route('/items/:id').get([auth], getItem);",
        "app.all('/legacy/*', (req, res) => res.status(410).end());",
        "app.get('env');",
        'export default app;',
      ].join('\n'),
      'src/items.ts': 'export const listItems = (req: any, res: any) => res.json([]);\nexport async function getItem(req: any, res: any) { res.json({}); }',
    });
    const summary = analysis.routes.map((r) => [r.method, r.path, r.handler.module, r.handler.name, r.middleware.join(',')]);
    expect(summary).toEqual([
      ['GET', '/items', 'src/items.ts', 'listItems', ''],
      ['POST', '/items', 'src/app.ts', null, 'auth,limit'],
      ['GET', '/items/:id', 'src/items.ts', 'getItem', 'auth'],
      ['ALL', '/legacy/*', 'src/app.ts', null, ''],
    ]);
  });

  it('mounts a router returned by a factory under every prefix it is mounted at', async () => {
    const { table } = await routesOf({
      'src/app.ts': "import express from 'express';\nimport { makeCrudRouter } from './crud';\nconst app = express();\napp.use('/api/books', makeCrudRouter('books'));\napp.use('/api/authors', makeCrudRouter('authors'));\nexport default app;",
      'src/crud.ts': "import { Router } from 'express';\nexport function makeCrudRouter(resource: string) {\n  const r = Router();\n  r.get('/', (q, s) => s.json(resource));\n  r.post('/', (q, s) => s.end());\n  return r;\n}",
    });
    expect(table).toEqual(['GET /api/authors', 'POST /api/authors', 'GET /api/books', 'POST /api/books']);
  });

  it('follows routes registered by a function that receives the app, and middleware order', async () => {
    const { analysis } = await routesOf({
      'app.js': "const express = require('express');\nconst app = express();\napp.use(express.json());\nrequire('./routes')(app);\napp.listen(3000);",
      'routes.js': "const users = require('./users');\nmodule.exports = function (app) {\n  app.get('/', (req, res) => res.send('home'));\n  users(app, '/users');\n};",
      'users.js': "module.exports = (app) => {\n  app.get('/users', (req, res) => res.json([]));\n  app.post('/users', (req, res) => res.end());\n};",
    });
    expect(analysis.routes.map((r) => `${r.method} ${r.path} [${r.middleware.join(',')}]`)).toEqual([
      'GET / [express.json]',
      'GET /users [express.json]',
      'POST /users [express.json]',
    ]);
  });

  it('follows the app handed over inside an object: { app }, { app: server }, destructured or read as opts.app', async () => {
    // The loader chain of santiq/bulletproof-nodejs: app.ts → loaders({ expressApp }) → expressLoader({ app }).
    const { table } = await routesOf({
      'src/app.ts': "import express from 'express';\nasync function start() {\n  const app = express();\n  await require('./loaders').default({ expressApp: app });\n  app.listen(3000);\n}\nstart();",
      'src/loaders/index.ts': "import expressLoader from './express';\nimport extras from './extras';\nexport default async ({ expressApp }) => {\n  await expressLoader({ app: expressApp });\n  extras({ app: expressApp, prefix: '/x' });\n};",
      'src/loaders/express.ts': "import routes from '../api';\nexport default ({ app }) => {\n  app.get('/status', (req, res) => res.end());\n  app.use('/api', routes());\n};",
      'src/loaders/extras.ts': "export default (opts) => {\n  opts.app.get('/extra', (req, res) => res.end());\n};",
      'src/api/index.ts': "import { Router } from 'express';\nimport user from './user';\nexport default () => {\n  const app = Router();\n  user({ router: app });\n  return app;\n};",
      'src/api/user.ts': "import { Router } from 'express';\nconst route = Router();\nexport default ({ router }) => {\n  router.use('/users', route);\n  route.get('/me', (req, res) => res.json({}));\n};",
    });
    expect(table).toEqual(['GET /api/users/me', 'GET /extra', 'GET /status']);
  });

  it('lists controllers whose routes a decorator library declares (routing-controllers, tsoa …) instead of staying silent', async () => {
    const { analysis, table } = await routesOf({
      'src/app.ts': "import express from 'express';\nimport { useExpressServer } from 'routing-controllers';\nimport { UserController } from './users';\nconst app = express();\napp.get('/health', (req, res) => res.end());\nuseExpressServer(app, { controllers: [UserController] });\nexport default app;",
      'src/users.ts': "import { JsonController, Get, Param } from 'routing-controllers';\n\n@JsonController('/users')\nexport class UserController {\n  @Get('/:id')\n  one(@Param('id') id: string) { return { id }; }\n}",
      // A class decorator from elsewhere (an ORM entity) is not a controller, nor one from a package whose name is
      // also an Object.prototype property (this crashed the analyzer).
      'src/user.entity.ts': "import { Entity } from 'typeorm';\n@Entity('users')\nexport class User {}",
      'src/odd.ts': "import { Thing } from 'constructor';\n@Thing()\nexport class Odd {}",
    });
    expect(table).toEqual(['GET /health']);
    expect(analysis.unresolvedRoutes).toEqual([
      { file: 'src/users.ts', line: 3, reason: 'controller `UserController` declares its routes with routing-controllers decorators, which are not read' },
    ]);
  });

  it('resolves constant prefixes and reports prefixes it cannot know', async () => {
    const { analysis, table } = await routesOf({
      'src/app.ts': [
        "import express, { Router } from 'express';",
        "const API_PREFIX = '/api/v2';",
        'const app = express();',
        'const r = Router();',
        "r.get('/ping', (q, s) => s.end());",
        'app.use(API_PREFIX, r);',
        'app.use(process.env.BASE_PATH, r);',
        'export default app;',
      ].join('\n'),
    });
    expect(table).toEqual(['GET /api/v2/ping']);
    expect(analysis.unresolvedRoutes).toEqual([{ file: 'src/app.ts', line: 7, reason: 'path `process.env.BASE_PATH` is not a static string' }]);
  });

  it('lists routers that are never mounted, and applies --entry', async () => {
    const { analysis } = await routesOf({
      'src/app.ts': "import express from 'express';\nconst app = express();\napp.get('/a', (q, s) => s.end());\nexport default app;",
      'src/other.ts': "import express from 'express';\nconst other = express();\nother.get('/b', (q, s) => s.end());",
      'src/orphan.ts': "import { Router } from 'express';\nconst r = Router();\nr.get('/c', (q, s) => s.end());",
    }, 'src/app.ts');
    expect(analysis.routes.map((r) => r.path)).toEqual(['/a']);
    expect(analysis.unresolvedRoutes.map((u) => u.file)).toEqual(['src/orphan.ts', 'src/other.ts']);
  });

  it('follows routers through barrel re-exports', async () => {
    const { table } = await routesOf({
      'src/app.ts': "import express from 'express';\nimport { users, posts } from './routes';\nconst app = express();\napp.use('/users', users);\napp.use('/posts', posts);\nexport default app;",
      'src/routes/index.ts': "export * from './users';\nexport { default as posts } from './posts';",
      'src/routes/users.ts': "import { Router } from 'express';\nexport const users = Router();\nusers.get('/', (q, s) => s.end());",
      'src/routes/posts.ts': "import { Router } from 'express';\nconst r = Router();\nr.delete('/:id', (q, s) => s.end());\nexport default r;",
    });
    expect(table).toEqual(['DELETE /posts/:id', 'GET /users']);
  });

  it('follows chained registrations and routers built by a chained expression', async () => {
    const { table, analysis } = await routesOf({
      'src/app.ts': "import express from 'express';\nimport routes from './routes';\nconst app = express();\napp.use(routes);\nexport default app;",
      'src/routes.ts': "import { Router } from 'express';\nimport tags from './tags';\nconst api = Router().use(tags);\nexport default Router().use('/api', api);",
      'src/tags.ts': "import { Router } from 'express';\nconst r = Router();\nr.all('/posts/*', (q, s, n) => n()).patch('/posts/:id', (q, s) => s.end()).delete('/posts/:id', (q, s) => s.end());\nr.get('/tags', (q, s) => s.end());\nexport default r;",
    });
    expect(table).toEqual(['ALL /api/posts/*', 'DELETE /api/posts/:id', 'PATCH /api/posts/:id', 'GET /api/tags']);
    expect(analysis.unresolvedRoutes).toEqual([]);
  });

  it('expands route tables iterated with forEach or for-of', async () => {
    const { table } = await routesOf({
      'src/app.js': "const express = require('express');\nconst router = require('./routes');\nconst app = express();\napp.use('/v1', router);\nmodule.exports = app;",
      'src/routes.js': "const express = require('express');\nconst router = express.Router();\nconst defs = [\n  { path: '/auth', route: require('./auth') },\n  { path: '/users', route: require('./users') },\n];\ndefs.forEach((d) => router.use(d.path, d.route));\nfor (const p of ['/a', '/b']) router.get(p, (q, s) => s.end());\nmodule.exports = router;",
      'src/auth.js': "const router = require('express').Router();\nrouter.post('/login', (q, s) => s.end());\nmodule.exports = router;",
      'src/users.js': "const router = require('express').Router();\nrouter.route('/:id').get((q, s) => s.end()).delete((q, s) => s.end());\nmodule.exports = router;",
    });
    expect(table).toEqual(['GET /v1/a', 'POST /v1/auth/login', 'GET /v1/b', 'DELETE /v1/users/:id', 'GET /v1/users/:id']);
  });

  it('reads the files of a solution-style tsconfig through its references', async () => {
    const { table } = await routesOf({
      'tsconfig.json': JSON.stringify({ files: [], include: [], references: [{ path: './tsconfig.app.json' }] }),
      'tsconfig.app.json': JSON.stringify({ compilerOptions: { strict: true }, include: ['src/**/*.ts'] }),
      'src/main.ts': "import express from 'express';\nconst app = express();\napp.get('/health', (q, s) => s.end());\napp.listen(3000);",
    });
    expect(table).toEqual(['GET /health']);
  });

  it('does not report a non-router `use` on a function parameter (passport.use) as an unresolved route', async () => {
    const { analysis } = await routesOf({
      'app.js': "const express = require('express');\nconst passport = require('passport');\nconst app = express();\nrequire('./setup-passport')(passport);\napp.get('/', (q, s) => s.end());\nmodule.exports = app;",
      'setup-passport.js': 'module.exports = function (passport) {\n  passport.use(makeStrategy());\n};\nfunction makeStrategy() { return {}; }',
    });
    expect(analysis.unresolvedRoutes).toEqual([]);
  });

  it('follows class-based controllers handed to an App class as an array', async () => {
    const { table, analysis } = await routesOf({
      'src/server.ts': "import App from './app';\nimport PostController from './post.controller';\nimport UserController from './user.controller';\nconst app = new App([new PostController(), new UserController()]);\napp.listen();",
      'src/app.ts': [
        "import * as express from 'express';",
        'class App {',
        '  public app: express.Application;',
        '  constructor(controllers: Array<{ router: express.Router }>) {',
        '    this.app = express();',
        '    this.app.use(express.json());',
        '    this.initializeControllers(controllers);',
        '    this.app.use((err: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => next(err));',
        '  }',
        '  private initializeControllers(controllers: Array<{ router: express.Router }>) {',
        "    controllers.forEach((controller) => { this.app.use('/', controller.router); });",
        '  }',
        '  public listen() { this.app.listen(3000); }',
        '}',
        'export default App;',
      ].join('\n'),
      'src/post.controller.ts': "import { Router, Request, Response } from 'express';\nexport default class PostController {\n  public path = '/posts';\n  public router = Router();\n  constructor() { this.initializeRoutes(); }\n  private initializeRoutes() {\n    this.router.get(this.path, this.getAllPosts);\n    this.router.get(`${this.path}/:id`, this.getPostById);\n  }\n  private getAllPosts = async (req: Request, res: Response) => { res.json([]); };\n  private getPostById = async (req: Request, res: Response) => { res.json({}); };\n}",
      'src/user.controller.ts': "import { Router } from 'express';\nexport default class UserController {\n  public router = Router();\n  constructor() { this.router.delete('/users/:id', (q, s) => s.end()); }\n}",
    });
    expect(table).toEqual(['GET /posts', 'GET /posts/:id', 'DELETE /users/:id']);
    expect(analysis.routes.find((r) => r.path === '/posts')!.handler).toMatchObject({ module: 'src/post.controller.ts', name: 'getAllPosts' });
    expect(analysis.routes.find((r) => r.path === '/posts')!.middleware).toEqual(['express.json']);
    expect(analysis.project.entries).toContain('src/app.ts');
  });
});
