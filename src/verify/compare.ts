import { compareStrings } from '../util/compare.js';
import { decodeBody, type RecordedBody } from './observer.js';
import type { RecordedRequest } from './recording.js';

/**
 * Comparing what the monolith and the decomposed system answered to the same request, and carrying values the
 * systems generate (ids, tokens, session cookies) from one request to the next.
 *
 * Both systems start empty and get the same requests in the same order, so most answers should be equal byte for
 * byte. What cannot be equal is what each system generates: a fresh id, a token, a timestamp. When the recording
 * had a value at some place, and the monolith and the decomposed system both answered a different value there, that
 * value was generated: it counts as equal, and later requests that carried the recorded value get each system's
 * own value instead (a login token, the id of a created post).
 */

export interface CompareOptions {
  /** JSON field names never compared (anywhere in the body), e.g. `updatedAt`. */
  ignoreFields: string[];
  /** Response headers compared (lowercase); `content-type` compares the media type and charset. */
  headers: string[];
}

export const DEFAULT_COMPARED_HEADERS = ['content-type', 'location'];

export interface Difference {
  /** `status`, `header content-type`, `body`, or a JSON path such as `body.items[2].price`. */
  at: string;
  monolith: string;
  decomposed: string;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  error?: string;
}

/** Values one system generated in place of recorded ones: recorded → this system's. */
export class Correlation {
  private readonly values = new Map<string, string>();

  learn(recorded: string, actual: string): void {
    if (recorded === actual || recorded.length < 6) return;
    this.values.set(recorded, actual);
  }

  /** Replaces every recorded value in a text with this system's (longest first, so no value is cut in two). */
  apply(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    for (const recorded of [...this.values.keys()].sort((a, b) => b.length - a.length || compareStrings(a, b))) {
      if (out.includes(recorded)) out = out.split(recorded).join(this.values.get(recorded)!);
    }
    return out;
  }

  /** The request as this system must receive it. */
  rewrite(request: RecordedRequest): { url: string; headers: Record<string, string>; body: Buffer } {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([n, v]) => [n, this.apply(v)]));
    const body = request.body && request.body.encoding !== 'base64' ? Buffer.from(this.apply(request.body.text), 'utf8') : decodeBody(request.body);
    return { url: this.apply(request.url), headers, body };
  }

  /** Learns from an answer: JSON string leaves and cookie values that differ from the recorded response's. */
  learnFrom(recorded: RecordedRequest['response'], answer: Answer): void {
    if (!recorded) return;
    const was = parseJson(recorded.body ? decodeBody(recorded.body) : Buffer.alloc(0));
    const now = parseJson(answer.body);
    if (was.ok && now.ok) walkPairs(was.value, now.value, (r, a) => this.learn(r, a));
    const cookies = (headers: Record<string, string>) => {
      const out = new Map<string, string>();
      for (const part of (headers['set-cookie'] ?? '').split(/,(?=\s*[^;=,\s]+=)/)) {
        const match = /^\s*([^=;\s]+)=([^;]*)/.exec(part);
        if (match) out.set(match[1]!, match[2]!);
      }
      return out;
    };
    const before = cookies(recorded.headers);
    for (const [name, value] of cookies(answer.headers)) {
      const old = before.get(name);
      if (old !== undefined) this.learn(old, value);
    }
    const location = recorded.headers.location;
    if (location && answer.headers.location) this.learn(location, answer.headers.location);
  }
}

function walkPairs(recorded: unknown, actual: unknown, visit: (r: string, a: string) => void): void {
  if (typeof recorded === 'string' && typeof actual === 'string') {
    visit(recorded, actual);
    return;
  }
  if (Array.isArray(recorded) && Array.isArray(actual)) {
    for (let i = 0; i < Math.min(recorded.length, actual.length); i += 1) walkPairs(recorded[i], actual[i], visit);
    return;
  }
  if (isPlainObject(recorded) && isPlainObject(actual)) {
    for (const key of Object.keys(recorded)) if (key in actual) walkPairs(recorded[key], actual[key], visit);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(buffer: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (buffer.length === 0) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(buffer.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

function show(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function normaliseHeader(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (name === 'content-type') return value.toLowerCase().replace(/\s+/g, '');
  return value;
}

/**
 * The differences a client could see between the monolith's answer and the decomposed system's, given the recorded
 * answer (to tell generated values from real differences). Sorted by place; empty when they agree.
 */
export function compareAnswers(monolith: Answer, decomposed: Answer, recorded: RecordedRequest['response'] | undefined, options: CompareOptions): Difference[] {
  const out: Difference[] = [];
  if (monolith.error || decomposed.error) {
    if (monolith.error !== decomposed.error) out.push({ at: 'connection', monolith: monolith.error ?? 'answered', decomposed: decomposed.error ?? 'answered' });
    return out;
  }
  if (monolith.status !== decomposed.status) out.push({ at: 'status', monolith: String(monolith.status), decomposed: String(decomposed.status) });
  for (const name of options.headers) {
    const m = normaliseHeader(name, monolith.headers[name]);
    const d = normaliseHeader(name, decomposed.headers[name]);
    const r = normaliseHeader(name, recorded?.headers[name]);
    if (m === d || (r !== undefined && m !== undefined && d !== undefined && m !== r && d !== r && name !== 'content-type')) continue;
    out.push({ at: `header ${name}`, monolith: m ?? '(absent)', decomposed: d ?? '(absent)' });
  }
  const m = parseJson(monolith.body);
  const d = parseJson(decomposed.body);
  if (m.ok && d.ok) {
    const r = recorded?.body ? parseJson(decodeBody(recorded.body)) : { ok: false as const };
    compareJson(m.value, d.value, r.ok ? r.value : undefined, r.ok, 'body', new Set(options.ignoreFields), out);
  } else if (!monolith.body.equals(decomposed.body)) {
    const text = (b: Buffer, json: boolean) => (json ? 'JSON' : b.length === 0 ? '(empty)' : show(b.toString('utf8')));
    out.push({ at: 'body', monolith: text(monolith.body, m.ok), decomposed: text(decomposed.body, d.ok) });
  }
  return out;
}

function compareJson(m: unknown, d: unknown, r: unknown, hasRecorded: boolean, at: string, ignore: Set<string>, out: Difference[]): void {
  if (Array.isArray(m) && Array.isArray(d)) {
    if (m.length !== d.length) {
      out.push({ at: `${at}.length`, monolith: String(m.length), decomposed: String(d.length) });
      return;
    }
    const rs = Array.isArray(r) && r.length === m.length ? r : undefined;
    m.forEach((item, i) => compareJson(item, d[i], rs?.[i], rs !== undefined, `${at}[${i}]`, ignore, out));
    return;
  }
  if (isPlainObject(m) && isPlainObject(d)) {
    const keys = [...new Set([...Object.keys(m), ...Object.keys(d)])].sort(compareStrings);
    const rs = isPlainObject(r) ? r : undefined;
    for (const key of keys) {
      if (ignore.has(key)) continue;
      compareJson(m[key], d[key], rs?.[key], rs !== undefined && key in rs, `${at}.${key}`, ignore, out);
    }
    return;
  }
  if (m === d) return;
  // Generated on both sides: the recording had a value here and both systems made up their own.
  if (hasRecorded && typeof r === 'string' && typeof m === 'string' && typeof d === 'string' && m !== r && d !== r) return;
  out.push({ at, monolith: show(m), decomposed: show(d) });
}

/** Two columns (monolith | decomposed), one line per difference, with a header line, for the terminal. */
export function sideBySide(differences: Difference[], width = 44): string[] {
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  const atWidth = Math.max(5, ...differences.map((d) => d.at.length));
  const left = Math.max(8, ...differences.map((d) => cut(d.monolith).length));
  return [
    `${'where'.padEnd(atWidth)}  ${'monolith'.padEnd(left)} | decomposed`,
    ...differences.map((d) => `${d.at.padEnd(atWidth)}  ${cut(d.monolith).padEnd(left)} | ${cut(d.decomposed)}`),
  ];
}

export type { RecordedBody };
