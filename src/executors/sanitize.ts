/**
 * What every stored stdout/stderr/body snippet goes through: secrets masked, then capped.
 *
 * Masking, in order:
 * 1. every known secret value (the job's credential material) → `***`, longest first, so a
 *    secret that contains another is masked whole; when the text was cut at a capture cap, a
 *    tail that is the beginning of a secret is masked too (a secret split by the cut);
 * 2. `key=value` / `key: value` pairs whose key contains a secret word (the shared list in
 *    src/secrets.ts: password, passwd, pwd, token, secret, api key, private key, passphrase,
 *    credentials, …; any prefix or suffix such as `db_password` or
 *    `JOBYARD_CREDENTIAL_PASSWORD`), quoted or not, JSON style included;
 * 3. `Authorization:` / `Proxy-Authorization:` header values (the scheme is kept) and any
 *    `Bearer <token>`;
 * 4. passwords in URLs (`scheme://user:password@host`).
 * The patterns are a second line of defence for values the executor does not know (a token the
 * remote side printed); the exact-value pass is the one that guarantees credential material
 * never reaches a row.
 */

import { secretKeyPattern } from '../secrets.js';

export const MASK = '***';

/** Bytes of `text` in UTF-8. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest prefix of `buf` of at most `max` bytes that does not split a UTF-8 sequence. */
export function utf8Prefix(buf: Buffer, max: number): Buffer {
  if (buf.length <= max) return buf;
  let end = Math.max(0, max);
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}

/** `…[truncated N bytes]`, or `…[truncated]` when the count is unknown (null). */
export function truncationNote(droppedBytes: number | null): string {
  return droppedBytes === null ? '…[truncated]' : `…[truncated ${droppedBytes} bytes]`;
}

/**
 * `text` capped at `cap` bytes (cut on a character boundary) followed by
 * `…[truncated N bytes]` when anything was cut. `alreadyDropped` counts bytes cut earlier (at
 * capture time), so the note tells the whole story.
 */
export function snippet(text: string, cap: number, alreadyDropped = 0): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= cap) return alreadyDropped > 0 ? `${text}${truncationNote(alreadyDropped)}` : text;
  const kept = utf8Prefix(buf, cap);
  return `${kept.toString('utf8')}${truncationNote(buf.length - kept.length + alreadyDropped)}`;
}

// Authorization has a rule of its own below, which keeps the scheme (`Bearer ***`).
const SECRET_KEY = secretKeyPattern({ except: ['authorization'] });
const VALUE = String.raw`"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|[^\s"'&;,]+`;
/** key (optionally quoted), `=` or `:`, value (quoted or bare). */
const PAIR = new RegExp(String.raw`(\b${SECRET_KEY})(["']?[ \t]*[=:][ \t]*)(${VALUE})`, 'gi');
const AUTH_HEADER = new RegExp(
  String.raw`(\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?)(?:(bearer|basic|digest|token|negotiate|ntlm|apikey)[ \t]+)?([^\s"',;]+)`,
  'gi',
);
const BEARER = /\b(bearer)([ \t]+)([A-Za-z0-9._~+/=-]{4,})/gi;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)@/gi;

export interface MaskOptions {
  /** The text was cut at a cap: also mask a tail that begins a secret. */
  truncated?: boolean;
}

/** `text` with every secret value and secret-looking pair masked (see the module comment). */
export function maskSecrets(text: string, secrets: readonly string[] = [], options: MaskOptions = {}): string {
  let out = text;
  const values = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length > 0))].sort((a, b) => b.length - a.length);
  for (const secret of values) out = out.split(secret).join(MASK);
  if (options.truncated) {
    for (const secret of values) {
      for (let n = Math.min(secret.length - 1, out.length); n > 0; n--) {
        if (out.endsWith(secret.slice(0, n))) {
          out = `${out.slice(0, out.length - n)}${MASK}`;
          break;
        }
      }
    }
  }
  out = out.replace(PAIR, (_m, key: string, sep: string, value: string) => `${key}${sep}${maskValue(value)}`);
  out = out.replace(AUTH_HEADER, (_m, head: string, scheme: string | undefined) => `${head}${scheme ? `${scheme} ` : ''}${MASK}`);
  out = out.replace(BEARER, (_m, word: string, space: string) => `${word}${space}${MASK}`);
  out = out.replace(URL_PASSWORD, (_m, head: string) => `${head}${MASK}@`);
  return out;
}

function maskValue(value: string): string {
  if (value === MASK) return value;
  const q = value[0];
  if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) return `${q}${MASK}${q}`;
  return MASK;
}

export interface SanitizeOptions {
  secrets?: readonly string[];
  /** Cap in bytes for the stored snippet. */
  cap: number;
  /** Bytes already cut from `text` when it was captured (0 when it is complete). */
  droppedBytes?: number;
  /** `text` was cut when captured, by an unknown number of bytes (when droppedBytes is 0). */
  truncated?: boolean;
}

/** Masked, then capped: the form in which output is stored. Null stays null. */
export function sanitizeOutput(text: string | null | undefined, options: SanitizeOptions): string | null {
  if (text === null || text === undefined) return null;
  const dropped = options.droppedBytes ?? 0;
  const cutEarlier = dropped > 0 || options.truncated === true;
  const masked = maskSecrets(text, options.secrets ?? [], { truncated: cutEarlier });
  if (cutEarlier && dropped === 0) {
    const capped = snippet(masked, options.cap);
    return capped === masked ? `${masked}${truncationNote(null)}` : capped;
  }
  return snippet(masked, options.cap, dropped);
}
