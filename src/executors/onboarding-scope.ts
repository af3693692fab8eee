/**
 * Parses an onboarding job's scope (pure): `targets_json.onboarding_scope =
 * { site_id, entries: string[], exclusions?: string[], ports?: number[] }`.
 *
 * Entry forms (IPv4 only), each optionally followed by `# comment`:
 * - an address: `10.0.0.5`;
 * - a CIDR: `10.0.0.0/24` — host addresses only (network and broadcast left out for /0–/30;
 *   /31 and /32 are all hosts); host bits in the base are ignored (`10.0.0.7/24` = `10.0.0.0/24`);
 * - a range: `10.0.0.5-10.0.0.20`, or `10.0.0.5-20` (last octet), inclusive.
 * The comment is stripped for parsing; the raw entry is kept as `targetInput` (so an
 * entry such as `10.0.0.56 # LAB-AIO-01` keeps the operator's label next to what it expanded to). A blank or comment-only entry is ignored. Octets with
 * leading zeros are refused (`010` is octal to some tools, decimal to others).
 *
 * Caps: one entry expands to at most MAX_ENTRY_ADDRESSES (1024 — a /22) addresses, and a scope
 * to at most MAX_SCOPE_TARGETS (4096); an entry over either is reported invalid and not expanded.
 * An address named by several entries is a target once, credited to the first entry.
 *
 * Exclusions use the same forms, are never expanded (so `10.0.0.0/8` is a fine exclusion; a CIDR
 * exclusion covers its whole block, network and broadcast included) and move matching targets
 * to `excluded`. Bad entries and bad exclusions are reported per entry as
 * `{ input, error }` (exclusions with `exclusion: true`) and do not stop the rest.
 */

export const MAX_ENTRY_ADDRESSES = 1024;
export const MAX_SCOPE_TARGETS = 4096;
export const DEFAULT_ONBOARDING_PORTS: readonly number[] = [22];

export interface ScopeTarget {
  address: string;
  /** The raw scope entry, comment included. */
  targetInput: string;
}

export interface ScopeProblem {
  input: string;
  error: string;
  /** The problem is in an exclusion. */
  exclusion?: true;
}

export interface ParsedScope {
  targets: ScopeTarget[];
  invalid: ScopeProblem[];
  excluded: ScopeTarget[];
}

export interface OnboardingScope extends ParsedScope {
  siteId: number | null;
  /** TCP ports probed, in order (scope `ports`, else the caller's fallback, else [22]). */
  ports: number[];
}

export interface ScopeOptions {
  maxPerEntry?: number;
  maxTotal?: number;
}

/** A structural problem with the scope (not an array of entries, bad ports): nothing can run. */
export class ScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScopeError';
  }
}

/** An inclusive range of IPv4 addresses as unsigned 32-bit numbers. */
export interface AddressSpan {
  start: number;
  end: number;
}

/** The entry without its `# comment`, trimmed. */
export function stripComment(entry: string): string {
  const hash = entry.indexOf('#');
  return (hash >= 0 ? entry.slice(0, hash) : entry).trim();
}

/** A dotted-quad IPv4 address → unsigned 32-bit number, or null. */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    const octet = parseOctet(p);
    if (octet === null) return null;
    n = n * 256 + octet;
  }
  return n;
}

function parseOctet(p: string): number | null {
  if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0'))) return null;
  const v = Number(p);
  return v <= 255 ? v : null;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The addresses one (comment-stripped) entry names, as a span of host addresses, or the reason
 * it names none. `wholeBlock`: a CIDR includes its network and broadcast addresses (exclusions).
 */
export function parseAddressSpec(text: string, options: { wholeBlock?: boolean } = {}): AddressSpan | { error: string } {
  if (text.includes(':')) return { error: 'IPv6 addresses are not supported; use IPv4' };
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const base = parseIPv4(text.slice(0, slash).trim());
    const bitsText = text.slice(slash + 1).trim();
    if (base === null) return { error: `invalid address ${JSON.stringify(text.slice(0, slash).trim())} in CIDR` };
    if (!/^\d{1,2}$/.test(bitsText) || Number(bitsText) > 32) return { error: `invalid prefix length ${JSON.stringify(bitsText)}; expected 0-32` };
    const bits = Number(bitsText);
    const size = 2 ** (32 - bits);
    const network = Math.floor(base / size) * size;
    if (bits >= 31 || options.wholeBlock) return { start: network, end: network + size - 1 };
    return { start: network + 1, end: network + size - 2 };
  }
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const left = text.slice(0, dash).trim();
    const right = text.slice(dash + 1).trim();
    const start = parseIPv4(left);
    if (start === null) return { error: `invalid range start ${JSON.stringify(left)}` };
    let end: number | null;
    if (right.includes('.')) end = parseIPv4(right);
    else {
      const octet = parseOctet(right);
      end = octet === null ? null : start - (start % 256) + octet;
    }
    if (end === null) return { error: `invalid range end ${JSON.stringify(right)}; expected an address or a last octet (0-255)` };
    if (end < start) return { error: `range end ${formatIPv4(end)} is before its start ${formatIPv4(start)}` };
    return { start, end };
  }
  const single = parseIPv4(text);
  if (single === null) return { error: `${JSON.stringify(text)} is not an IPv4 address, CIDR (a.b.c.d/n) or range (a.b.c.d-e.f.g.h or a.b.c.d-n)` };
  return { start: single, end: single };
}

/** Expands entries, applies exclusions, reports bad entries one by one. */
export function parseScopeEntries(entries: readonly unknown[], exclusions: readonly unknown[] = [], options: ScopeOptions = {}): ParsedScope {
  const maxPerEntry = options.maxPerEntry ?? MAX_ENTRY_ADDRESSES;
  const maxTotal = options.maxTotal ?? MAX_SCOPE_TARGETS;
  const invalid: ScopeProblem[] = [];

  const excludedSpans: AddressSpan[] = [];
  for (const raw of exclusions) {
    if (typeof raw !== 'string') {
      invalid.push({ input: describeRaw(raw), error: 'exclusion must be a string', exclusion: true });
      continue;
    }
    const text = stripComment(raw);
    if (text === '') continue;
    const span = parseAddressSpec(text, { wholeBlock: true });
    if ('error' in span) invalid.push({ input: raw, error: span.error, exclusion: true });
    else excludedSpans.push(span);
  }
  const isExcluded = (n: number) => excludedSpans.some((s) => n >= s.start && n <= s.end);

  const targets: ScopeTarget[] = [];
  const excluded: ScopeTarget[] = [];
  const seen = new Set<number>();
  for (const raw of entries) {
    if (typeof raw !== 'string') {
      invalid.push({ input: describeRaw(raw), error: 'entry must be a string' });
      continue;
    }
    const text = stripComment(raw);
    if (text === '') continue;
    const span = parseAddressSpec(text);
    if ('error' in span) {
      invalid.push({ input: raw, error: span.error });
      continue;
    }
    const count = span.end - span.start + 1;
    if (count > maxPerEntry) {
      invalid.push({ input: raw, error: `expands to ${count} addresses; at most ${maxPerEntry} per entry (a /${32 - Math.floor(Math.log2(maxPerEntry))})` });
      continue;
    }
    const fresh: number[] = [];
    for (let n = span.start; n <= span.end; n++) if (!seen.has(n)) fresh.push(n);
    const kept = fresh.filter((n) => !isExcluded(n)).length;
    if (targets.length + kept > maxTotal) {
      invalid.push({ input: raw, error: `would take the scope past ${maxTotal} targets; entry not expanded` });
      continue;
    }
    for (const n of fresh) {
      seen.add(n);
      (isExcluded(n) ? excluded : targets).push({ address: formatIPv4(n), targetInput: raw });
    }
  }
  return { targets, invalid, excluded };
}

/**
 * The scope of an onboarding job from its targets_json. Throws a ScopeError when there is no
 * scope, `entries` is not an array, or `ports` is not a list of TCP ports.
 */
export function parseOnboardingScope(targetsJson: unknown, options: ScopeOptions & { fallbackPorts?: unknown } = {}): OnboardingScope {
  const scope = (targetsJson as { onboarding_scope?: unknown } | null)?.onboarding_scope;
  if (typeof scope !== 'object' || scope === null || Array.isArray(scope)) throw new ScopeError('targets_json.onboarding_scope is missing or not an object');
  const s = scope as Record<string, unknown>;
  if (!Array.isArray(s.entries)) throw new ScopeError('targets_json.onboarding_scope.entries must be an array of strings');
  if (s.exclusions !== undefined && s.exclusions !== null && !Array.isArray(s.exclusions)) {
    throw new ScopeError('targets_json.onboarding_scope.exclusions must be an array of strings');
  }
  const ports = s.ports ?? options.fallbackPorts;
  const siteId = typeof s.site_id === 'number' && Number.isInteger(s.site_id) ? s.site_id : null;
  return {
    siteId,
    ports: ports === undefined || ports === null ? [...DEFAULT_ONBOARDING_PORTS] : parsePorts(ports),
    ...parseScopeEntries(s.entries, (s.exclusions as unknown[] | undefined) ?? [], options),
  };
}

function parsePorts(value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) {
    throw new ScopeError(`ports must be a non-empty array of TCP ports (1-65535), got ${describeRaw(value)}`);
  }
  return [...new Set(value as number[])];
}

function describeRaw(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
