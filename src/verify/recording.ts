import fs from 'node:fs';
import { UserError } from '../util/errors.js';
import { compareStrings, stableJson } from '../util/compare.js';
import type { Exchange, RecordedBody } from './observer.js';

/**
 * Recorded requests: the simple JSON format `decompose verify --record` writes, or a HAR file (browsers' and
 * proxies' export format). Either way a list of requests in order, each with the response it got when recorded.
 */

export const RECORDING_FORMAT = 'decompose-recording';

export interface RecordedRequest {
  method: string;
  /** Path and query (an absolute URL in a HAR file keeps only these). */
  url: string;
  headers: Record<string, string>;
  body?: RecordedBody;
  response?: { status: number; headers: Record<string, string>; body?: RecordedBody };
  durationMs?: number;
}

export interface Recording {
  format: typeof RECORDING_FORMAT;
  version: 1;
  /** Where it was recorded (for people). */
  source?: string;
  requests: RecordedRequest[];
}

/** Headers that belong to one connection or one client, not to the request: never recorded or replayed. */
const CONNECTION_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'accept-encoding', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id']);

function requestHeaders(headers: Record<string, string>): Record<string, string> {
  const kept = Object.entries(headers)
    .filter(([name]) => !CONNECTION_HEADERS.has(name.toLowerCase()))
    .map(([name, value]): [string, string] => [name.toLowerCase(), value]);
  return Object.fromEntries(kept.sort((a, b) => compareStrings(a[0], b[0])));
}

/** The observer's exchanges (in arrival order) as a recording. */
export function toRecording(exchanges: Exchange[], source: string): Recording {
  const requests = [...exchanges]
    .sort((a, b) => a.seq - b.seq)
    .map((e): RecordedRequest => ({
      method: e.method,
      url: e.url,
      headers: requestHeaders(e.headers),
      ...(e.body ? { body: e.body } : {}),
      response: { status: e.response.status, headers: e.response.headers, ...(e.response.body ? { body: e.response.body } : {}) },
      durationMs: e.durationMs,
    }));
  return { format: RECORDING_FORMAT, version: 1, source, requests };
}

export function writeRecording(file: string, recording: Recording): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, stableJson(recording));
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new UserError('DEC-034', `${file}: cannot write the recording (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { hint: 'Choose a writable path for --record.', position: { file } });
  }
}

/** Reads a recording or a HAR file; every problem is reported with the file named (exit 2). */
export function readRecording(file: string): Recording {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError('DEC-101', `${file}: cannot read the requests to replay (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, {
      hint: 'Pass a HAR file or a file written by `decompose verify --record FILE`.',
      position: { file },
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new UserError('DEC-102', `${file}: not JSON (${(error as Error).message.replace(/\s+/g, ' ')})`, { hint: 'Pass a HAR file or a file written by `decompose verify --record FILE`.', position: { file } });
  }
  const problems: string[] = [];
  let requests: RecordedRequest[] = [];
  if (isObject(data) && isObject(data.log) && Array.isArray(data.log.entries)) {
    requests = data.log.entries.flatMap((entry, i) => fromHarEntry(entry, i, problems));
  } else if (isObject(data) && data.format === RECORDING_FORMAT && Array.isArray(data.requests)) {
    requests = data.requests.flatMap((request, i) => fromRecorded(request, i, problems));
  } else {
    throw new UserError('DEC-103', `${file}: neither a HAR file (log.entries) nor a decompose recording (format "${RECORDING_FORMAT}")`, {
      hint: 'Record one with `decompose verify --record FILE`, or export a HAR file from a browser or proxy.',
      position: { file },
    });
  }
  if (problems.length > 0) {
    throw new UserError('DEC-104', `${file}: ${problems.length} request${problems.length === 1 ? '' : 's'} cannot be replayed`, { details: problems.slice(0, 20), position: { file }, hint: 'Fix or remove these entries.' });
  }
  if (requests.length === 0) throw new UserError('DEC-105', `${file}: no requests to replay`, { hint: 'Record the test command again; it sent no request.', position: { file } });
  return { format: RECORDING_FORMAT, version: 1, requests };
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const METHOD = /^[A-Z]+$/;

function target(url: string): string | null {
  if (url.startsWith('/')) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return null;
  }
}

function fromRecorded(request: unknown, i: number, problems: string[]): RecordedRequest[] {
  if (!isObject(request) || typeof request.method !== 'string' || !METHOD.test(request.method) || typeof request.url !== 'string' || target(request.url) === null) {
    problems.push(`requests[${i}]: needs a method (GET, POST …) and a url starting with /`);
    return [];
  }
  const headers = isObject(request.headers) ? Object.fromEntries(Object.entries(request.headers).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
  const body = isBody(request.body) ? request.body : undefined;
  const response = isObject(request.response) && typeof request.response.status === 'number'
    ? { status: request.response.status, headers: isObject(request.response.headers) ? (request.response.headers as Record<string, string>) : {}, ...(isBody(request.response.body) ? { body: request.response.body } : {}) }
    : undefined;
  return [{ method: request.method, url: target(request.url)!, headers: requestHeaders(headers), ...(body ? { body } : {}), ...(response ? { response } : {}), ...(typeof request.durationMs === 'number' ? { durationMs: request.durationMs } : {}) }];
}

function isBody(value: unknown): value is RecordedBody {
  return isObject(value) && typeof value.text === 'string' && (value.encoding === undefined || value.encoding === 'base64');
}

function harHeaders(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(list)) return out;
  for (const h of list) {
    if (!isObject(h) || typeof h.name !== 'string' || typeof h.value !== 'string' || h.name.startsWith(':')) continue;
    const name = h.name.toLowerCase();
    out[name] = out[name] === undefined ? h.value : `${out[name]}, ${h.value}`;
  }
  return out;
}

function fromHarEntry(entry: unknown, i: number, problems: string[]): RecordedRequest[] {
  const request = isObject(entry) ? entry.request : undefined;
  if (!isObject(request) || typeof request.method !== 'string' || !METHOD.test(request.method.toUpperCase()) || typeof request.url !== 'string' || target(request.url) === null) {
    problems.push(`log.entries[${i}]: needs request.method and request.url`);
    return [];
  }
  const post = isObject(request.postData) && typeof request.postData.text === 'string' ? { text: request.postData.text } : undefined;
  const res = isObject(entry) && isObject((entry as Record<string, unknown>).response) ? ((entry as Record<string, any>).response as Record<string, any>) : undefined;
  let response: RecordedRequest['response'];
  if (res && typeof res.status === 'number' && res.status > 0) {
    const content = isObject(res.content) && typeof res.content.text === 'string' ? res.content : undefined;
    response = {
      status: res.status,
      headers: harHeaders(res.headers),
      ...(content ? { body: content.encoding === 'base64' ? { text: content.text as string, encoding: 'base64' as const } : { text: content.text as string } } : {}),
    };
  }
  const time = isObject(entry) && typeof (entry as Record<string, unknown>).time === 'number' ? ((entry as Record<string, unknown>).time as number) : undefined;
  return [{ method: request.method.toUpperCase(), url: target(request.url)!, headers: requestHeaders(harHeaders(request.headers)), ...(post ? { body: post } : {}), ...(response ? { response } : {}), ...(time !== undefined ? { durationMs: time } : {}) }];
}
