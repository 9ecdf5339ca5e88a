import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeProject } from '../test-support/temp-project.js';
import { userErrorOf } from '../test-support/user-error.js';
import { CONFIG_FILE, answersFrom, defaultAnswers, parseConfig, readGuidedConfig, serializeConfig, writeGuidedConfig } from './config-file.js';

const refusal = userErrorOf;

describe('guided config: reading', () => {
  it('reads decompose.config.json before the decompose key of package.json, and nothing without either', () => {
    const both = writeProject({
      [CONFIG_FILE]: JSON.stringify({ scaffold: { ci: 'gitlab' } }),
      'package.json': JSON.stringify({ name: 'app', decompose: { scaffold: { ci: 'none' } } }),
    });
    expect(readGuidedConfig(both)).toEqual({ config: { scaffold: { ci: 'gitlab' } }, source: CONFIG_FILE });
    const pkgOnly = writeProject({ 'package.json': JSON.stringify({ name: 'app', decompose: { verify: { gateway: 'nginx' } } }) });
    expect(readGuidedConfig(pkgOnly)).toEqual({ config: { verify: { gateway: 'nginx' } }, source: 'package.json#decompose' });
    expect(readGuidedConfig(writeProject({ 'package.json': JSON.stringify({ name: 'app' }) }))).toEqual({ config: {}, source: null });
    expect(readGuidedConfig(writeProject({ 'a.js': '' }))).toEqual({ config: {}, source: null });
  });

  it('answers: the file over the defaults; targets keep their canonical order', () => {
    const defaults = defaultAnswers({ git: true });
    expect(defaults).toMatchObject({ existingPlan: 'refresh', targets: ['services', 'gateway', 'docker', 'k8s', 'observability'], ci: 'github', out: 'decomposed', gateway: 'auto', runVerify: false });
    expect(defaults.plan.git).toBe(true);
    const answers = answersFrom({ plan: { existing: 'replace', maxServices: 6, git: false }, scaffold: { targets: ['k8s', 'services'], out: 'split', host: 'shop.example.com' }, verify: { run: true } }, defaults);
    expect(answers).toMatchObject({ existingPlan: 'replace', targets: ['services', 'k8s'], ci: 'github', out: 'split', host: 'shop.example.com', gateway: 'auto', runVerify: true });
    expect(answers.plan).toEqual({ git: false, compare: false, maxServices: 6 });
  });

  it('a config written by the guided run reads back as the same answers', () => {
    const defaults = defaultAnswers({ git: false });
    const answers = { ...defaults, targets: ['services' as const, 'gateway' as const], ci: 'gitlab' as const, gateway: 'node' as const, plan: { ...defaults.plan, seed: 7 } };
    const text = serializeConfig(answers, defaults);
    expect(answersFrom(parseConfig(text, CONFIG_FILE, []), defaults)).toEqual(answers);
    const dir = writeProject({});
    writeGuidedConfig(dir, text);
    expect(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8')).toBe(text);
  });

  it('never writes over a config that is there', () => {
    const dir = writeProject({ [CONFIG_FILE]: '{"scaffold": {}}\n' });
    const error = refusal(() => writeGuidedConfig(dir, '{}\n'));
    expect(error.code).toBe('DEC-030');
    expect(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8')).toBe('{"scaffold": {}}\n');
  });
});

describe('guided config: refusals name the file, line and column', () => {
  it('invalid JSON', () => {
    const error = refusal(() => parseConfig('{\n  "scaffold": {,\n}', '/p/decompose.config.json', []));
    expect(error.code).toBe('DEC-131');
    expect(error.position?.file).toBe('/p/decompose.config.json');
    expect(error.position?.line).toBe(2);
  });

  it('an unknown key, with the nearest known one; every problem listed', () => {
    const text = '{\n  "scaffold": {\n    "targest": ["k8s"],\n    "ci": "jenkins"\n  },\n  "verfy": {}\n}\n';
    const error = refusal(() => parseConfig(text, 'decompose.config.json', []));
    expect(error.code).toBe('DEC-131');
    const all = [error.message, ...error.details].join('\n');
    expect(all).toContain('decompose.config.json:3:5: unknown key "scaffold.targest"; did you mean "scaffold.targets"?');
    expect(all).toContain('decompose.config.json:4:11: scaffold.ci: expected one of "github", "gitlab", "none"');
    expect(all).toContain('decompose.config.json:6:3: unknown key "verfy"; did you mean "verify"?');
  });

  it('wrong types and ranges', () => {
    const text = '{ "plan": { "maxServices": 0, "git": "yes" }, "scaffold": { "targets": [] } }';
    const error = refusal(() => parseConfig(text, 'c.json', []));
    const all = [error.message, ...error.details].join('\n');
    expect(all).toMatch(/c\.json:1:\d+: plan\.maxServices: /);
    expect(all).toMatch(/c\.json:1:\d+: plan\.git: expected boolean/);
    expect(all).toMatch(/c\.json:1:\d+: scaffold\.targets: /);
  });

  it('inside package.json, the position is in package.json', () => {
    const text = '{\n  "name": "app",\n  "decompose": {\n    "verify": { "gateway": "traefik" }\n  }\n}\n';
    const error = refusal(() => parseConfig(text, 'package.json', ['decompose']));
    expect(error.message).toContain('package.json:4:28: verify.gateway: expected one of "auto", "node", "nginx"');
    expect(error.hint).toContain('"decompose" in package.json');
  });
});

describe('guided config: the first problem is the first in the file', () => {
  it('reports problems in file order', () => {
    const error = refusal(() => parseConfig('{ "verify": { "run": 1 }, "zz": 1 }', 'c.json', []));
    expect(error.message).toMatch(/^c\.json:1:\d+: verify\.run/);
    expect(error.details[0]).toContain('unknown key "zz"');
  });
});
