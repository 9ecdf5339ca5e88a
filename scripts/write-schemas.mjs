#!/usr/bin/env node
// Regenerates schema/*.json from the zod schemas (after `npm run build`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analysisJsonSchema } from '../dist/model/json-schemas.js';
import { stableJson } from '../dist/util/compare.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
fs.writeFileSync(path.join(root, 'schema', 'analysis.schema.json'), stableJson(analysisJsonSchema()));
