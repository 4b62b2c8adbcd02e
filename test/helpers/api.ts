/**
 * REST API requests with a bearer token, for integration tests: any method, a JSON body
 * (or a raw one), no keep-alive.
 *
 *   const r = await apiRequest(server.httpPort, 'POST', `/v1/calls/${id}/monitors`, {
 *     body: { supervisor: '1005', mode: 'listen' },
 *   });
 *   expect(r.status).toBe(201);
 *
 * The token defaults to the test admin token (TEST_ADMIN_TOKEN); `token: null` sends none.
 */
import http from 'node:http';
import { HOST, readHttpResult, TEST_ADMIN_TOKEN, type HttpResult } from './server.js';

export interface ApiRequestOptions {
  /** Bearer token; default the test admin token, null: no Authorization header. */
  readonly token?: string | null;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent as is (instead of `body`), with `contentType`. */
  readonly raw?: string;
  readonly contentType?: string;
  readonly timeoutMs?: number;
  /** More request headers (a session cookie). */
  readonly headers?: Readonly<Record<string, string>>;
}

export function apiRequest(
  port: number,
  method: string,
  urlPath: string,
  opts: ApiRequestOptions = {},
): Promise<HttpResult> {
  const token = opts.token === undefined ? TEST_ADMIN_TOKEN.token : opts.token;
  const text =
    opts.raw ?? (opts.body === undefined ? undefined : (JSON.stringify(opts.body) as string));
  const headers: Record<string, string | number> = { ...opts.headers, connection: 'close' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (text !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = Buffer.byteLength(text);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port, method, path: urlPath, agent: false, headers },
      (res) => {
        readHttpResult(res).then(resolve, reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10000, () =>
      req.destroy(new Error(`${method} ${urlPath}: timeout`)),
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** An API client bound to one server port and (by default) one token. */
export interface ApiClient {
  get(path: string, token?: string | null): Promise<HttpResult>;
  post(path: string, body?: unknown, token?: string | null): Promise<HttpResult>;
  patch(path: string, body?: unknown, token?: string | null): Promise<HttpResult>;
  delete(path: string, token?: string | null): Promise<HttpResult>;
  request(method: string, path: string, opts?: ApiRequestOptions): Promise<HttpResult>;
}

export function apiClient(port: number, defaultToken: string = TEST_ADMIN_TOKEN.token): ApiClient {
  const t = (token: string | null | undefined) => (token === undefined ? defaultToken : token);
  return {
    get: (p, token) => apiRequest(port, 'GET', p, { token: t(token) }),
    post: (p, body, token) => apiRequest(port, 'POST', p, { token: t(token), body }),
    patch: (p, body, token) => apiRequest(port, 'PATCH', p, { token: t(token), body }),
    delete: (p, token) => apiRequest(port, 'DELETE', p, { token: t(token) }),
    request: (method, p, opts = {}) =>
      apiRequest(port, method, p, { ...opts, token: t(opts.token) }),
  };
}

/** Summarises a reply for one expect(): status and parsed body (or text). */
export function summary(r: HttpResult): { status: number; body: unknown } {
  return { status: r.status, body: r.json ?? r.body };
}

/** Lines of a JSON-lines file, parsed (missing file: none). */
export async function readJsonLines(file: string): Promise<Record<string, unknown>[]> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
