import { describe, expect, it } from 'vitest';
import { writeProject } from '../test-support/temp-project.js';
import { analyze, isSecretLike } from './analyze.js';

const APP = "const express = require('express');\nmodule.exports = express();\n";

async function analyzeFiles(files: Record<string, string>, dependencies: Record<string, string> = { express: '4', pg: '8' }) {
  return analyze({ dir: writeProject({ 'package.json': JSON.stringify({ name: 'x', dependencies }), 'app.js': APP, ...files }) });
}

function ownership(analysis: Awaited<ReturnType<typeof analyze>>) {
  return Object.fromEntries(analysis.entities.map((e) => [e.name, { kind: e.kind, readers: e.readers, writers: e.writers }]));
}

describe('data ownership', () => {
  it('takes no call named like an Object.prototype method for an entity declaration', async () => {
    const analysis = await analyzeFiles({
      'routes/x.js': "exports.show = async (req, res) => {\n  const hex = req.body.toString('hex');\n  const own = req.query.hasOwnProperty('id');\n  res.json({ found: hex.find({ a: 1 }), own: own.findOne() });\n};",
    });
    expect(analysis.entities).toEqual([]);
  });

  it('recognises mongoose models and their static and instance operations', async () => {
    const analysis = await analyzeFiles({
      'models/User.js': "const mongoose = require('mongoose');\nconst schema = new mongoose.Schema({});\nmodule.exports = mongoose.model('User', schema);",
      'controllers/users.js': "const User = require('../models/User');\nexports.show = async (req, res) => res.json(await User.findById(req.params.id));\nexports.update = async (req, res) => { const user = await User.findOne({}); user.name = 'x'; await user.save(); };",
      'controllers/signup.js': "const User = require('../models/User');\nexports.create = async (req, res) => { const user = new User(req.body); await user.save(); };",
    });
    expect(ownership(analysis)).toEqual({
      User: { kind: 'mongoose', readers: ['controllers/users.js'], writers: ['controllers/signup.js', 'controllers/users.js'] },
    });
    expect(analysis.entities[0]!.definedIn).toEqual([{ module: 'models/User.js', line: 3 }]);
  });

  it('recognises Sequelize define and Model.init classes through a models index', async () => {
    const analysis = await analyzeFiles({
      'models/index.js': "const { Sequelize } = require('sequelize');\nconst sequelize = new Sequelize('sqlite::memory:');\nconst Post = require('./post')(sequelize);\nconst Tag = require('./tag');\nmodule.exports = { sequelize, Post, Tag };",
      'models/post.js': "module.exports = (sequelize) => sequelize.define('Post', { title: 'STRING' });",
      'models/tag.js': "const { Model } = require('sequelize');\nclass Tag extends Model {}\nmodule.exports = Tag;",
      'services/posts.js': "const { Post, Tag } = require('../models');\nexports.list = () => Post.findAll();\nexports.tag = (t) => Tag.create(t);\nexports.remove = (id) => Post.destroy({ where: { id } });",
    });
    expect(ownership(analysis)).toEqual({
      Post: { kind: 'sequelize', readers: ['services/posts.js'], writers: ['services/posts.js'] },
      Tag: { kind: 'sequelize', readers: [], writers: ['services/posts.js'] },
    });
  });

  it('recognises TypeORM entities, repositories and injected repositories', async () => {
    const analysis = await analyzeFiles({
      'src/user.entity.ts': "import { Entity } from 'typeorm';\n@Entity('users')\nexport class User {}",
      'src/data-source.ts': "import { DataSource } from 'typeorm';\nexport const AppDataSource = new DataSource({ type: 'postgres' });",
      'src/user.service.ts': "import { AppDataSource } from './data-source';\nimport { User } from './user.entity';\nconst repo = AppDataSource.getRepository(User);\nexport const find = () => repo.find();",
      'src/user.admin.ts': "import { InjectRepository } from '@nestjs/typeorm';\nimport { Repository } from 'typeorm';\nimport { User } from './user.entity';\nexport class Admin {\n  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}\n  remove(id: string) { return this.users.delete(id); }\n}",
    });
    expect(ownership(analysis)).toEqual({
      users: { kind: 'typeorm', readers: ['src/user.service.ts'], writers: ['src/user.admin.ts'] },
    });
  });

  it('recognises Prisma, knex and raw SQL', async () => {
    const analysis = await analyzeFiles({
      'src/db.ts': "import { PrismaClient } from '@prisma/client';\nexport const prisma = new PrismaClient();",
      'src/orders.ts': "import { prisma } from './db';\nexport const list = () => prisma.order.findMany();\nexport const add = (d: any) => prisma.order.create({ data: d });",
      'src/knexfile.ts': "import knex from 'knex';\nexport const db = knex({ client: 'pg' });",
      'src/stock.ts': "import { db } from './knexfile';\nexport const take = (id: string) => db('stock').where({ id }).decrement('qty', 1);",
      'src/sql.js': "const pool = require('./pool');\nexports.q = () => pool.query('SELECT * FROM invoices i JOIN customers c ON c.id = i.customer_id');\nexports.w = () => pool.query(`UPDATE invoices SET paid = true WHERE id = $1`);",
      'src/pool.js': 'module.exports = {};',
    });
    expect(ownership(analysis)).toEqual({
      customers: { kind: 'sql', readers: ['src/sql.js'], writers: [] },
      invoices: { kind: 'sql', readers: ['src/sql.js'], writers: ['src/sql.js'] },
      order: { kind: 'prisma', readers: ['src/orders.ts'], writers: ['src/orders.ts'] },
      stock: { kind: 'knex', readers: ['src/stock.ts'], writers: ['src/stock.ts'] },
    });
  });

  it('follows in-process store tables exported by one module and written by another', async () => {
    const analysis = await analyzeFiles({
      'src/db.ts': 'class Table { async findById(id: string) {} async update(id: string, p: object) {} }\nexport const db = { table: (name: string) => new Table() };',
      'src/stock.repository.ts': "import { db } from './db';\nexport const stockTable = db.table('stock');\nexport const get = (id: string) => stockTable.findById(id);",
      'src/orders.ts': "import { stockTable } from './stock.repository';\nexport async function restock(id: string) { await stockTable.update(id, { qty: 1 }); }",
    });
    expect(ownership(analysis)).toEqual({
      stock: { kind: 'store', readers: ['src/stock.repository.ts'], writers: ['src/orders.ts'] },
    });
  });
});

describe('configuration', () => {
  it('lists process.env reads per module and flags secret-like names', async () => {
    const analysis = await analyzeFiles({
      'config.js': "const { DB_HOST, JWT_SECRET = 'dev' } = process.env;\nmodule.exports = { port: process.env.PORT, key: process.env['STRIPE_API_KEY'], DB_HOST, JWT_SECRET, monkey: process.env.MONKEY_NAME };",
    });
    expect(analysis.env.map((e) => [e.name, e.secretLike, e.modules.map((m) => `${m.module}:${m.line}`).join()])).toEqual([
      ['DB_HOST', false, 'config.js:1'],
      ['JWT_SECRET', true, 'config.js:1'],
      ['MONKEY_NAME', false, 'config.js:2'],
      ['PORT', false, 'config.js:2'],
      ['STRIPE_API_KEY', true, 'config.js:2'],
    ]);
  });

  it('classifies secret-like names', () => {
    expect(['DATABASE_URL', 'SMTP_PASSWORD', 'API_KEY', 'SESSION_SECRET', 'GITHUB_TOKEN', 'PRIVATE_KEY_PATH'].every(isSecretLike)).toBe(true);
    expect(['PORT', 'NODE_ENV', 'KEYBOARD_LAYOUT', 'LOG_LEVEL', 'MONKEY'].some(isSecretLike)).toBe(false);
  });
});

describe('scale-out hazards', () => {
  it('finds sessions, caches, module state, timers, local disk and websockets, and ignores state never changed', async () => {
    const analysis = await analyzeFiles({
      'session.js': "const session = require('express-session');\nmodule.exports = session({ secret: 'x' });",
      'shared-session.js': "const session = require('express-session');\nconst RedisStore = require('connect-redis');\nmodule.exports = session({ store: new RedisStore({}), secret: 'x' });",
      'cache.js': 'const userCache = new Map();\nexports.get = (id) => userCache.get(id);\nexports.put = (id, v) => userCache.set(id, v);',
      'limits.js': 'let hits = 0;\nconst frozen = Object.freeze({ a: 1 });\nconst constants = { max: 3 };\nexports.hit = () => { hits++; return frozen.a + constants.max; };',
      'jobs.js': "const cron = require('node-cron');\nsetInterval(() => {}, 1000);\ncron.schedule('* * * * *', () => {});",
      'uploads.js': "const fs = require('fs');\nconst multer = require('multer');\nexports.upload = multer({ dest: 'uploads/' });\nexports.save = (b) => fs.writeFileSync('out.bin', b);",
      'ws.js': "const { Server } = require('socket.io');\nmodule.exports = (http) => new Server(http);",
    });
    expect(analysis.hazards.map((h) => `${h.kind} ${h.file}:${h.line}${h.symbol ? ` ${h.symbol}` : ''}`)).toEqual([
      'in-process-cache cache.js:1 userCache',
      'timer jobs.js:2',
      'timer jobs.js:3',
      'module-state limits.js:1 hits',
      'in-memory-session session.js:2',
      'local-disk uploads.js:3',
      'local-disk uploads.js:4',
      'websocket ws.js:2',
    ]);
  });
});

describe('registries', () => {
  it('does not flag a get-or-create registry of constructed objects, but flags a cache of data', async () => {
    const analysis = await analyzeFiles({
      'registry.js': 'class Table {}\nconst tables = new Map();\nexports.table = (name) => {\n  let t = tables.get(name);\n  if (!t) { t = new Table(); tables.set(name, t); }\n  return t;\n};',
      'data.js': 'const seen = new Map();\nexports.remember = (id, row) => { seen.set(id, row); };',
    });
    expect(analysis.hazards.map((h) => `${h.kind} ${h.file}:${h.line}`)).toEqual(['module-state data.js:1']);
  });
});

describe('real-world patterns (each from a public app that once fooled the analyzer)', () => {
  it('ignores SQL-looking strings in a project without a SQL client', async () => {
    const analysis = await analyzeFiles({ 'qb.js': "exports.q = () => fetch('https://qb.example/query?q=' + 'select * from Customer');" }, { express: '4' });
    expect(analysis.entities).toEqual([]);
  });

  it('takes a collection name held in a constant', async () => {
    const analysis = await analyzeFiles({ 'rag.js': "const CHUNKS = 'rag_chunks';\nexports.find = (db) => db.collection(CHUNKS).find({});" });
    expect(analysis.entities.map((e) => [e.name, e.readers])).toEqual([['rag_chunks', ['rag.js']]]);
  });

  it('does not flag multer memory storage, lazy singletons, server handles or init flags; flags in-memory rate limits', async () => {
    const analysis = await analyzeFiles({
      'upload.js': "const multer = require('multer');\nexports.upload = multer({ storage: multer.memoryStorage() });",
      'client.js': 'let client = null;\nlet ready = false;\nexports.get = () => { if (!client) client = create(); ready = true; return client; };\nfunction create() { return {}; }',
      'index.js': "const app = require('./app');\nrequire('./limits');\nlet server;\nPromise.resolve().then(() => { server = app.listen(3000); });",
      'limits.js': "const rateLimit = require('express-rate-limit');\nexports.authLimiter = rateLimit({ windowMs: 60000, max: 5 });",
    });
    expect(analysis.hazards.map((h) => `${h.kind} ${h.file}:${h.line}`)).toEqual(['module-state limits.js:2']);
  });
});

describe('what counts as the server', () => {
  it('reports hazards only in modules the app loads, and skips nested packages', async () => {
    const analysis = await analyze({
      dir: writeProject({
        'package.json': JSON.stringify({ dependencies: { express: '4' } }),
        'src/app.js': "const express = require('express');\nconst jobs = require('./jobs');\nconst app = express();\napp.listen(3000);",
        'src/jobs.js': 'setInterval(() => {}, 1000);',
        'bin/scaffold.js': "const fs = require('fs');\nfs.writeFileSync('x', 'y');",
        'client/package.json': '{}',
        'client/src/store.js': "import a from './a';\nexport default a;",
      }),
    });
    expect(analysis.hazards.map((h) => `${h.kind} ${h.file}`)).toEqual(['timer src/jobs.js']);
    expect(analysis.modules.map((m) => m.path)).toEqual(['bin/scaffold.js', 'src/app.js', 'src/jobs.js']);
  });
});
