// A small JSON client for tests: every call resolves with status, headers and parsed body.
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  token?: string;
  /** Sent as-is (a string is not JSON-encoded again). */
  raw?: string | Buffer;
}

export function client(baseUrl: string) {
  const call = async (method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<JsonResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | Buffer | undefined = opts.raw;
    if (payload === undefined && body !== undefined) {
      payload = JSON.stringify(body);
    }
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(new URL(path, baseUrl), { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    get: (path: string, opts?: RequestOptions) => call('GET', path, undefined, opts),
    post: (path: string, body?: unknown, opts?: RequestOptions) => call('POST', path, body, opts),
    put: (path: string, body?: unknown, opts?: RequestOptions) => call('PUT', path, body, opts),
    patch: (path: string, body?: unknown, opts?: RequestOptions) => call('PATCH', path, body, opts),
    delete: (path: string, opts?: RequestOptions) => call('DELETE', path, undefined, opts),
    call,
  };
}
