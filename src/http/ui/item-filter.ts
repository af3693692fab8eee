/** The work-item filter in a dashboard URL: parsed and written back, purely (the query itself is src/queue/work-item-list.ts). */
import { WORK_STATUSES } from '../../queue/kinds.js';
import type { ItemFilter } from '../../queue/work-item-list.js';

export type { ItemFilter };

const parseTime = (text: string): number | undefined => {
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text.length === 16 ? `${text}Z` : text);
  return Number.isFinite(n) ? n : undefined;
};

/** The filter in a query string, and one line per bad field (naming the field and what it accepts). Pure. */
export function parseItemFilter(q: URLSearchParams): { filter: ItemFilter; problems: string[] } {
  const filter: ItemFilter = {};
  const problems: string[] = [];
  const get = (k: string) => {
    const v = q.get(k);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  const status = get('status');
  if (status !== undefined) {
    if ((WORK_STATUSES as readonly string[]).includes(status)) filter.status = status;
    else problems.push(`status: "${status}" is not one of ${WORK_STATUSES.join(', ')}`);
  }
  const kind = get('kind');
  if (kind !== undefined) filter.kind = kind;
  const site = get('site');
  if (site !== undefined) {
    if (site === 'none') filter.site = null;
    else if (/^\d+$/.test(site)) filter.site = Number(site);
    else problems.push(`site: "${site}" is not a site id or "none"`);
  }
  const lane = get('lane');
  if (lane !== undefined) filter.lane = lane;
  const worker = get('worker');
  if (worker !== undefined) filter.worker = worker;
  const run = get('run');
  if (run !== undefined) {
    if (/^\d+$/.test(run)) filter.runId = Number(run);
    else problems.push(`run: "${run}" is not a run id`);
  }
  for (const key of ['from', 'to'] as const) {
    const text = get(key);
    if (text === undefined) continue;
    const t = parseTime(text);
    if (t === undefined) problems.push(`${key}: "${text}" is not a time (ISO 8601 such as 2026-12-02T08:00 UTC, or epoch ms)`);
    else filter[key] = t;
  }
  const payload = get('payload');
  if (payload !== undefined) {
    const m = /^([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)=(.*)$/.exec(payload);
    if (!m) problems.push(`payload: "${payload}" is not path=value (for example host.name=web-1)`);
    else {
      filter.payloadPath = m[1]!;
      filter.payloadValue = m[2]!;
    }
  }
  return { filter, problems };
}

/** The filter as query-string pairs (for links and hidden form fields). Pure. */
export function filterToQuery(f: ItemFilter): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.status) q.status = String(f.status);
  if (f.kind) q.kind = String(f.kind);
  if (f.site !== undefined) q.site = f.site === null ? 'none' : String(f.site);
  if (f.lane) q.lane = f.lane;
  if (f.worker) q.worker = f.worker;
  if (f.runId !== undefined) q.run = String(f.runId);
  if (f.from !== undefined) q.from = String(f.from);
  if (f.to !== undefined) q.to = String(f.to);
  if (f.payloadPath) q.payload = `${f.payloadPath}=${f.payloadValue ?? ''}`;
  return q;
}
