import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { maskSecrets } from '../src/executors/sanitize.js';
import { toJsonText } from '../src/http/json.js';
import { createLogger } from '../src/log.js';
import { serialisePayload } from '../src/queue/payload.js';
import { isSecretKey, SECRET_KEY_WORDS } from '../src/secrets.js';

/** One log line written by the process logger, parsed. */
function logLine(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  createLogger({ level: 'info', destination }).info(fields, 'probe');
  return JSON.parse(lines.join('')) as Record<string, unknown>;
}

describe('one list of secret key names', () => {
  // passwd, pwd and credentials were once masked in output only; now every consumer knows them.
  const words = ['passwd', 'pwd', 'credentials'];

  it.each(words)('refuses %s in a work-item payload, at any depth', (key) => {
    expect(() => serialisePayload({ [key]: 'x' })).toThrow(new RegExp(`secrets never enter payload_json; remove ${key} `));
    expect(() => serialisePayload({ host: { [key]: 'x' } })).toThrow(new RegExp(`remove host\\.${key} `));
  });

  it.each(words)('censors a %s field in log lines, at the top level and one level down', (key) => {
    const line = logLine({ [key]: 'hunter2', ctx: { [key]: 'hunter2' } });
    expect(line[key]).toBe('***');
    expect(line.ctx).toEqual({ [key]: '***' });
    expect(JSON.stringify(line)).not.toContain('hunter2');
  });

  it.each(words)('masks a %s=value pair in stored output', (key) => {
    expect(maskSecrets(`login ${key}=hunter2 user=bob`)).toBe(`login ${key}=*** user=bob`);
  });

  it.each(words)('redacts a %s key in API responses', (key) => {
    expect(JSON.parse(toJsonText({ [key]: 'hunter2', ok: 1 }))).toEqual({ [key]: '[redacted]', ok: 1 });
  });

  it('applies every word of the list in each of its forms', () => {
    for (const word of SECRET_KEY_WORDS) {
      const camel = word.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
      expect(isSecretKey(word), word).toBe(true);
      expect(isSecretKey(camel), camel).toBe(true);
      expect(isSecretKey(`db_${word}`), `db_${word}`).toBe(true);
      expect(logLine({ [word]: 'hunter2', [camel]: 'hunter2' }), word).toMatchObject({ [word]: '***', [camel]: '***' });
      // Authorization headers are masked by their own rule, which keeps the scheme.
      if (word !== 'authorization') expect(maskSecrets(`${word}=hunter2`), word).toBe(`${word}=***`);
    }
  });

  it('still lets a credential id and look-alike names through', () => {
    for (const key of ['credential_id', 'credentialId', 'tokens_used', 'passwords_rotated_at', 'keyword', 'cwd']) {
      expect(isSecretKey(key), key).toBe(false);
    }
    expect(serialisePayload({ credential_id: 7 })).toBe('{"credential_id":7}');
    expect(maskSecrets('credential_id=7 cwd=/tmp')).toBe('credential_id=7 cwd=/tmp');
  });
});
