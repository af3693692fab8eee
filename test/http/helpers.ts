/** Shared helpers of the HTTP tests: requests against a started server, metric-line parsing. */
import { expect } from 'vitest';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function request(baseUrl: string, path: string, init: { token?: string; method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(`${baseUrl}${path}`, { method: init.method ?? 'GET', headers });
  const text = await res.text();
  let json: unknown;
  if (text !== '' && (res.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

/** Expects a JSON error reply with this status whose message matches. */
export function expectError(reply: Reply, status: number, message: RegExp): void {
  expect({ status: reply.status, error: reply.json?.error }).toMatchObject({ status, error: expect.stringMatching(message) });
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (sample lines only). */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; fails loudly otherwise. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const matches = parseSamples(text).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length >= Object.keys(labels).length,
  );
  const exact = matches.filter((s) => Object.keys(s.labels).length === Object.keys(labels).length);
  const chosen = exact.length === 1 ? exact : matches;
  if (chosen.length !== 1) {
    throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${chosen.length}:\n${text.split('\n').filter((l) => l.startsWith(name)).join('\n')}`);
  }
  return chosen[0]!.value;
}
