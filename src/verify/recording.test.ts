import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isUserError } from '../util/errors.js';
import type { Exchange } from './observer.js';
import { RECORDING_FORMAT, readRecording, toRecording, writeRecording } from './recording.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-recording-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const full = path.join(dir, name);
  fs.writeFileSync(full, content);
  return full;
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isUserError(error)) return `${error.code} ${error.message}`;
    throw error;
  }
  return 'no error';
}

describe('recordings', () => {
  it('writes what the observer saw, in arrival order, without connection headers, and reads it back', () => {
    const exchanges: Exchange[] = [
      { seq: 2, method: 'GET', url: '/api/b', headers: { host: 'x', authorization: 'Bearer t' }, response: { status: 200, headers: {}, body: { text: '{}' } }, durationMs: 2 },
      { seq: 1, method: 'POST', url: '/api/a?x=1', headers: { host: 'x', 'content-length': '2', 'content-type': 'application/json' }, body: { text: '{}' }, response: { status: 201, headers: {} }, durationMs: 1 },
    ];
    const recording = toRecording(exchanges, 'test');
    expect(recording.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/a?x=1', 'GET /api/b']);
    expect(recording.requests[0]!.headers).toEqual({ 'content-type': 'application/json' });
    const target = path.join(dir, 'rec.json');
    writeRecording(target, recording);
    const back = readRecording(target);
    expect(back.requests).toEqual(recording.requests);
  });

  it('reads a HAR file: absolute URLs become path and query, headers are lowercased, pseudo-headers dropped', () => {
    const har = {
      log: {
        version: '1.2',
        entries: [
          {
            time: 12.5,
            request: { method: 'post', url: 'https://shop.example/api/orders?draft=1', headers: [{ name: ':authority', value: 'x' }, { name: 'Content-Type', value: 'application/json' }, { name: 'Host', value: 'shop.example' }], postData: { mimeType: 'application/json', text: '{"a":1}' } },
            response: { status: 201, headers: [{ name: 'Content-Type', value: 'application/json' }], content: { text: '{"id":"o1"}' } },
          },
        ],
      },
    };
    const recording = readRecording(file('session.har', JSON.stringify(har)));
    expect(recording.requests).toEqual([
      { method: 'POST', url: '/api/orders?draft=1', headers: { 'content-type': 'application/json' }, body: { text: '{"a":1}' }, response: { status: 201, headers: { 'content-type': 'application/json' }, body: { text: '{"id":"o1"}' } }, durationMs: 12.5 },
    ]);
  });

  it('refuses what it cannot replay with one line naming the file (exit 2)', () => {
    expect(codeOf(() => readRecording(path.join(dir, 'missing.json')))).toMatch(/^DEC-101 .*missing\.json/);
    expect(codeOf(() => readRecording(file('broken.json', '{"log": ')))).toMatch(/^DEC-102 .*broken\.json: not JSON/);
    expect(codeOf(() => readRecording(file('other.json', '{"hello": 1}')))).toMatch(/^DEC-103 /);
    expect(codeOf(() => readRecording(file('bad.json', JSON.stringify({ format: RECORDING_FORMAT, version: 1, requests: [{ method: 'GET', url: 'nope' }] }))))).toMatch(/^DEC-104 .*1 request cannot be replayed/);
    expect(codeOf(() => readRecording(file('empty.json', JSON.stringify({ format: RECORDING_FORMAT, version: 1, requests: [] }))))).toMatch(/^DEC-105 /);
  });
});
