import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy that writes down every exchange: method, raw target, headers and bodies both ways, status
 * and the time the target took. verify puts one in front of the monolith and one in front of the gateway, so both
 * systems are measured the same way, and `--record` writes what it saw to a file that `--replay` reads.
 * Bodies are buffered (a black-box suite's requests are small); hop-by-hop headers are not forwarded.
 */

export interface RecordedBody {
  text: string;
  /** `base64` when the bytes are not UTF-8 text. */
  encoding?: 'base64';
}

export interface Exchange {
  seq: number;
  method: string;
  /** The raw request target: path and query, as the client sent it. */
  url: string;
  headers: Record<string, string>;
  body?: RecordedBody;
  response: {
    status: number;
    headers: Record<string, string>;
    body?: RecordedBody;
  };
  durationMs: number;
  /** Set when the target could not be reached or broke the connection (status is then 502). */
  error?: string;
}

export interface Observer {
  port: number;
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

export function encodeBody(buffer: Buffer): RecordedBody | undefined {
  if (buffer.length === 0) return undefined;
  const text = buffer.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buffer) ? { text } : { text: buffer.toString('base64'), encoding: 'base64' };
}

export function decodeBody(body: RecordedBody | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  return body.encoding === 'base64' ? Buffer.from(body.text, 'base64') : Buffer.from(body.text, 'utf8');
}

/** Header values as one string each (lowercase names), hop-by-hop headers left out. */
export function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export interface SendResult {
  status: number;
  headers: Record<string, string>;
  rawHeaders: string[];
  body: Buffer;
  durationMs: number;
  error?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request to `base` (an http://host:port origin) with the raw target; never throws (errors become 502). */
export function sendRequest(base: string, method: string, target: string, headers: Record<string, string>, body: Buffer, timeoutMs = 30_000): Promise<SendResult> {
  const url = new URL(base);
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
  return new Promise((resolve) => {
    const outgoing = { ...headers };
    delete outgoing['content-length'];
    if (body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method)) outgoing['content-length'] = String(body.length);
    const req = http.request({ hostname: url.hostname, port: url.port, method, path: target, headers: outgoing, agent, timeout: timeoutMs }, (res) => {
      readAll(res)
        .then((buffer) => resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), rawHeaders: res.rawHeaders, body: buffer, durationMs: elapsed() }))
        .catch((error: Error) => resolve({ status: 502, headers: {}, rawHeaders: [], body: Buffer.alloc(0), durationMs: elapsed(), error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ status: 502, headers: {}, rawHeaders: [], body: Buffer.alloc(0), durationMs: elapsed(), error: error.message || String(error) }));
    req.end(body);
  });
}

/** Starts an observing proxy on a free loopback port in front of `target` (an http origin). */
export async function startObserver(target: string): Promise<Observer> {
  const exchanges: Exchange[] = [];
  let seq = 0;
  const server = http.createServer((req, res) => {
    const mine = (seq += 1);
    readAll(req)
      .then(async (requestBody) => {
        const headers = flatHeaders(req.headers);
        const method = req.method ?? 'GET';
        const url = req.url ?? '/';
        const answer = await sendRequest(target, method, url, headers, requestBody);
        exchanges.push({
          seq: mine,
          method,
          url,
          headers,
          ...(requestBody.length > 0 ? { body: encodeBody(requestBody) } : {}),
          response: { status: answer.status, headers: answer.headers, ...(answer.body.length > 0 ? { body: encodeBody(answer.body) } : {}) },
          durationMs: Math.round(answer.durationMs * 100) / 100,
          ...(answer.error ? { error: answer.error } : {}),
        });
        if (answer.error) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: answer.error } }));
          return;
        }
        const kept: string[] = [];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          const name = answer.rawHeaders[i]!;
          const lower = name.toLowerCase();
          if (HOP_BY_HOP.has(lower) || (lower === 'content-length' && method !== 'HEAD')) continue;
          kept.push(name, answer.rawHeaders[i + 1]!);
        }
        if (method !== 'HEAD') kept.push('Content-Length', String(answer.body.length));
        res.writeHead(answer.status, kept);
        res.end(method === 'HEAD' ? undefined : answer.body);
      })
      .catch((error: Error) => {
        res.writeHead(502);
        res.end(error.message);
      });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
