/** A minimal cookie-keeping HTTP client for the dashboard (what a browser would send, minus the browser). */
export class UiClient {
  cookie: string | undefined;
  lastSetCookie: string | null = null;

  constructor(readonly origin: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.#send(path, { method: 'GET', headers });
  }

  /** A form POST from this origin (Origin header set), unless headers say otherwise. */
  async post(path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of ([] as string[]).concat(v)) body.append(k, one);
    return this.#send(path, { method: 'POST', body, headers: { origin: this.origin, 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  }

  async signIn(token: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.post('/ui/signin', { token }, headers);
  }

  /** The CSRF token of the signed-in session, read from a page's form. */
  async csrf(): Promise<string> {
    const text = await (await this.get('/ui')).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (!m) throw new Error('no CSRF field on the overview page');
    return m[1]!;
  }

  async #send(path: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    const headers = { ...init.headers, ...(this.cookie ? { cookie: this.cookie } : {}) };
    const res = await fetch(`${this.origin}${path}`, { ...init, headers, redirect: 'manual' });
    this.lastSetCookie = res.headers.get('set-cookie');
    const m = this.lastSetCookie ? /jobyard_session=([^;]*)/.exec(this.lastSetCookie) : null;
    if (m) this.cookie = m[1] ? `jobyard_session=${m[1]}` : undefined;
    return res;
  }
}
