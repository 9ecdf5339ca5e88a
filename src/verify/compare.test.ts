import { describe, expect, it } from 'vitest';
import { type Answer, Correlation, DEFAULT_COMPARED_HEADERS, compareAnswers, sideBySide } from './compare.js';
import type { RecordedRequest } from './recording.js';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});
const recorded = (status: number, body: unknown, headers: Record<string, string> = {}): RecordedRequest['response'] => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: { text: JSON.stringify(body) },
});
const options = { ignoreFields: [], headers: DEFAULT_COMPARED_HEADERS };

describe('compareAnswers', () => {
  it('finds nothing when both systems answered the same', () => {
    expect(compareAnswers(json(200, { a: [1, 2], b: 'x' }), json(200, { b: 'x', a: [1, 2] }), undefined, options)).toEqual([]);
  });

  it('names the status, the JSON path and the header that differ', () => {
    const found = compareAnswers(json(200, { items: [{ price: 5 }] }), json(500, { items: [{ price: 6 }] }, { 'content-type': 'text/html' }), undefined, options);
    expect(found).toEqual([
      { at: 'status', monolith: '200', decomposed: '500' },
      { at: 'header content-type', monolith: 'application/json;charset=utf-8', decomposed: 'text/html' },
      { at: 'body.items[0].price', monolith: '5', decomposed: '6' },
    ]);
    const body = compareAnswers(json(200, { items: [{ price: 5 }], extra: true }), json(200, { items: [{ price: 6 }] }), undefined, options);
    expect(body.map((d) => d.at)).toEqual(['body.extra', 'body.items[0].price']);
  });

  it('takes values both systems generated where the recording had one (ids, tokens, timestamps) as equal', () => {
    const was = recorded(201, { id: 'a1b2c3d4', token: 'tok-recorded', createdAt: '2020-01-01T00:00:00Z', title: 'Hello' });
    const m = json(201, { id: 'e5f6a7b8', token: 'tok-monolith', createdAt: '2026-01-01T00:00:01Z', title: 'Hello' });
    const d = json(201, { id: 'c9d0e1f2', token: 'tok-decomposed', createdAt: '2026-01-01T00:00:02Z', title: 'Hello' });
    expect(compareAnswers(m, d, was, options)).toEqual([]);
    // But where the monolith reproduced the recording, the decomposed system must too.
    const wrong = json(201, { id: 'c9d0e1f2', token: 'tok-decomposed', createdAt: '2026-01-01T00:00:02Z', title: 'Bye' });
    expect(compareAnswers(m, wrong, was, options)).toEqual([{ at: 'body.title', monolith: '"Hello"', decomposed: '"Bye"' }]);
    // Without a recording nothing counts as generated.
    expect(compareAnswers(m, d, undefined, options).map((x) => x.at)).toEqual(['body.createdAt', 'body.id', 'body.token']);
  });

  it('skips ignored fields anywhere in the body', () => {
    const m = json(200, { updatedAt: 1, nested: [{ updatedAt: 2, v: 1 }] });
    const d = json(200, { updatedAt: 3, nested: [{ updatedAt: 4, v: 1 }] });
    expect(compareAnswers(m, d, undefined, { ...options, ignoreFields: ['updatedAt'] })).toEqual([]);
  });

  it('compares bodies that are not JSON byte for byte, and connection errors as such', () => {
    const text = (s: string): Answer => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(s) });
    expect(compareAnswers(text('ok'), text('ok'), undefined, options)).toEqual([]);
    expect(compareAnswers(text('ok'), text('no'), undefined, options)).toEqual([{ at: 'body', monolith: '"ok"', decomposed: '"no"' }]);
    const refused: Answer = { status: 502, headers: {}, body: Buffer.alloc(0), error: 'connect ECONNREFUSED' };
    expect(compareAnswers(text('ok'), refused, undefined, options)).toEqual([{ at: 'connection', monolith: 'answered', decomposed: 'connect ECONNREFUSED' }]);
  });

  it('lays differences out in two columns', () => {
    const lines = sideBySide([{ at: 'status', monolith: '201', decomposed: '500' }, { at: 'body.error', monolith: '(absent)', decomposed: '"Internal server error"' }]);
    expect(lines).toEqual([
      'where       monolith | decomposed',
      'status      201      | 500',
      'body.error  (absent) | "Internal server error"',
    ]);
  });
});

describe('Correlation', () => {
  it('carries a generated token, id and session cookie into later requests', () => {
    const ids = new Correlation();
    ids.learnFrom(
      recorded(201, { user: { id: 'user-recorded-1' }, token: 'eyJ.recorded.token' }, { 'set-cookie': 'sid=recorded-session; Path=/; HttpOnly' }),
      json(201, { user: { id: 'user-actual-9' }, token: 'eyJ.actual.token' }, { 'set-cookie': 'sid=actual-session; Path=/; HttpOnly' }),
    );
    const later: RecordedRequest = {
      method: 'PATCH',
      url: '/api/users/user-recorded-1?x=1',
      headers: { authorization: 'Bearer eyJ.recorded.token', cookie: 'sid=recorded-session' },
      body: { text: JSON.stringify({ owner: 'user-recorded-1' }) },
    };
    const sent = ids.rewrite(later);
    expect(sent.url).toBe('/api/users/user-actual-9?x=1');
    expect(sent.headers).toEqual({ authorization: 'Bearer eyJ.actual.token', cookie: 'sid=actual-session' });
    expect(JSON.parse(sent.body.toString())).toEqual({ owner: 'user-actual-9' });
  });

  it('never maps short values (they would replace parts of unrelated text)', () => {
    const ids = new Correlation();
    ids.learnFrom(recorded(200, { n: 'ab' }), json(200, { n: 'cd' }));
    expect(ids.apply('/api/ab/cab')).toBe('/api/ab/cab');
  });
});
