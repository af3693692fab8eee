/**
 * The `http` component: one `fetch` with the component's method (default GET), headers and body.
 * A string body is sent as it is; any other body as JSON (content-type application/json unless
 * the component sets one). The timeout (component `timeout_seconds` or the default) and the
 * item's signal both abort the request, body reading included. Redirects are followed (fetch's
 * default). At most `outputCapBytes` of the response body are read; reading stops there (the
 * rest is not downloaded) and the cut is reported in `bodyDroppedBytes` when the length is known
 * from content-length, or as `bodyTruncated` alone. Success is a 2xx status.
 */

export interface HttpComponent {
  kind?: string;
  name?: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeout_seconds?: number;
}

export interface HttpOptions {
  signal?: AbortSignal;
  outputCapBytes: number;
  defaultTimeoutMs: number;
}

export interface HttpResult {
  ok: boolean;
  status: number | null;
  statusText: string;
  /** At most outputCapBytes of the body, decoded as UTF-8. */
  body: string;
  bodyTruncated: boolean;
  /** Bytes not read, when content-length says how many; 0 otherwise. */
  bodyDroppedBytes: number;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
  error?: string;
}

export function httpProblems(component: Record<string, unknown>): string[] {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = typeof component.url === 'string' ? new URL(component.url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) problems.push('url must be an http:// or https:// URL');
  if (component.method !== undefined && (typeof component.method !== 'string' || !/^[A-Za-z]+$/.test(component.method))) {
    problems.push('method must be an HTTP method name');
  }
  const h = component.headers;
  if (h !== undefined && (typeof h !== 'object' || h === null || Array.isArray(h) || !Object.values(h).every((v) => typeof v === 'string'))) {
    problems.push('headers must be an object of strings');
  }
  if (component.timeout_seconds !== undefined && !(typeof component.timeout_seconds === 'number' && component.timeout_seconds > 0)) {
    problems.push('timeout_seconds must be a positive number');
  }
  return problems;
}

const MAX_TIMER_MS = 2_147_483_647;

export async function runHttp(component: HttpComponent, options: HttpOptions): Promise<HttpResult> {
  const started = performance.now();
  const timeoutMs = Math.min(component.timeout_seconds !== undefined ? component.timeout_seconds * 1000 : options.defaultTimeoutMs, MAX_TIMER_MS);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const cap = Math.max(0, options.outputCapBytes);
  const result: HttpResult = {
    ok: false,
    status: null,
    statusText: '',
    body: '',
    bodyTruncated: false,
    bodyDroppedBytes: 0,
    durationMs: 0,
    timedOut: false,
    aborted: false,
  };
  const method = (component.method ?? 'GET').toUpperCase();
  try {
    const headers = new Headers(component.headers ?? {}); // throws for an invalid header name or value
    let body: string | undefined;
    if (component.body !== undefined && component.body !== null && method !== 'GET' && method !== 'HEAD') {
      if (typeof component.body === 'string') body = component.body;
      else {
        body = JSON.stringify(component.body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
    }
    const response = await fetch(component.url, { method, headers, ...(body !== undefined ? { body } : {}), signal });
    result.status = response.status;
    result.statusText = response.statusText;
    const read = await readCapped(response, cap);
    result.body = read.text;
    result.bodyTruncated = read.truncated;
    result.bodyDroppedBytes = read.dropped;
    result.ok = response.status >= 200 && response.status < 300;
  } catch (err) {
    result.ok = false;
    if (timeout.aborted) {
      result.timedOut = true;
      result.error = `timed out after ${timeoutMs / 1000} s`;
    } else if (options.signal?.aborted) {
      result.aborted = true;
      result.error = 'aborted';
    } else {
      result.error = describeFetchError(err);
    }
  }
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

async function readCapped(response: Response, cap: number): Promise<{ text: string; truncated: boolean; dropped: number }> {
  if (!response.body) return { text: '', truncated: false, dropped: 0 };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = cap - kept;
    if (value.length > room) {
      chunks.push(value.subarray(0, room));
      kept += room;
      truncated = true;
      await reader.cancel().catch(() => {});
      break;
    }
    chunks.push(value);
    kept += value.length;
  }
  const buf = Buffer.concat(chunks);
  // A cut in the middle of a character: drop the partial character (TextDecoder would show U+FFFD).
  const text = new TextDecoder('utf-8', { fatal: false }).decode(truncated ? trimPartial(buf) : buf);
  const length = Number(response.headers.get('content-length'));
  const encoded = response.headers.get('content-encoding');
  // content-length counts encoded bytes; only trust it for identity bodies.
  const dropped = truncated && Number.isFinite(length) && length > kept && (!encoded || encoded === 'identity') ? length - Buffer.byteLength(text) : 0;
  return { text, truncated, dropped };
}

function trimPartial(buf: Buffer): Buffer {
  if (buf.length === 0) return buf;
  let i = buf.length - 1;
  while (i > 0 && (buf[i]! & 0xc0) === 0x80) i--;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i < need ? buf.subarray(0, i) : buf;
}

/** fetch's "fetch failed" hides the reason in `cause`. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message}: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`.trim();
  }
  return err.message;
}
