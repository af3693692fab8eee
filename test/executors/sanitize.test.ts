import { describe, expect, it } from 'vitest';
import { maskSecrets, sanitizeOutput, snippet } from '../../src/executors/sanitize.js';

describe('snippet', () => {
  it('leaves short text alone and caps long text with a note of what was cut', () => {
    expect(snippet('hello', 10)).toBe('hello');
    expect(snippet('0123456789abcdef', 10)).toBe('0123456789…[truncated 6 bytes]');
  });

  it('counts bytes, never splits a character, and adds bytes cut earlier', () => {
    // "é" is 2 bytes: a cap of 3 keeps "aé" (3 bytes); a cap of 2 keeps "a" only.
    expect(snippet('aéé', 3)).toBe('aé…[truncated 2 bytes]');
    expect(snippet('aéé', 2)).toBe('a…[truncated 4 bytes]');
    expect(snippet('abc', 10, 500)).toBe('abc…[truncated 500 bytes]');
    expect(snippet('abcdef', 3, 10)).toBe('abc…[truncated 13 bytes]');
  });
});

describe('maskSecrets', () => {
  it('masks every occurrence of every secret value, longest first', () => {
    expect(maskSecrets('pw hunter2 and again hunter2!', ['hunter2'])).toBe('pw *** and again ***!');
    expect(maskSecrets('abc-abcdef', ['abc', 'abcdef'])).toBe('***-***');
    expect(maskSecrets('nothing here', ['', 'zzz'])).toBe('nothing here');
  });

  it('masks a secret split by a capture cut only when asked', () => {
    expect(maskSecrets('the value is hunt', ['hunter2'], { truncated: true })).toBe('the value is ***');
    expect(maskSecrets('the value is hunt', ['hunter2'])).toBe('the value is hunt');
  });

  it('masks password=/token=-style pairs, quoted or not, JSON too', () => {
    expect(maskSecrets('login password=s3cret user=bob')).toBe('login password=*** user=bob');
    expect(maskSecrets('DB_PASSWORD: "a b c"')).toBe('DB_PASSWORD: "***"');
    expect(maskSecrets("token='xyz' next")).toBe("token='***' next");
    expect(maskSecrets('{"api_key": "k-123", "name": "x"}')).toBe('{"api_key": "***", "name": "x"}');
    expect(maskSecrets('https://h/cb?access_token=abc&x=1')).toBe('https://h/cb?access_token=***&x=1');
    expect(maskSecrets('JOBYARD_CREDENTIAL_PASSWORD=pw1')).toBe('JOBYARD_CREDENTIAL_PASSWORD=***');
    expect(maskSecrets('client_secret = zz')).toBe('client_secret = ***');
  });

  it('masks Authorization headers (keeping the scheme), bearer tokens and URL passwords', () => {
    expect(maskSecrets('Authorization: Bearer eyJhbGciOi.x.y')).toBe('Authorization: Bearer ***');
    expect(maskSecrets('authorization: Basic dXNlcjpwYXNz')).toBe('authorization: Basic ***');
    expect(maskSecrets('Proxy-Authorization: abcdef')).toBe('Proxy-Authorization: ***');
    expect(maskSecrets('curl -H "Authorization: Bearer abc123"')).toBe('curl -H "Authorization: Bearer ***"');
    expect(maskSecrets('sent bearer abcd.efgh')).toBe('sent bearer ***');
    expect(maskSecrets('postgres://jobyard:pa55@db:5432/x')).toBe('postgres://jobyard:***@db:5432/x');
  });

  it('leaves ordinary output alone', () => {
    const text = 'Installed 3 packages in 2.1s\nexit status: 0\nuser=bob path=/tmp';
    expect(maskSecrets(text, ['not-present'])).toBe(text);
  });
});

describe('sanitizeOutput', () => {
  it('masks before capping, so a cap never exposes half a secret', () => {
    const secret = 'ABCDEFGHIJ';
    const text = `xxxxx${secret}yyyy`;
    expect(sanitizeOutput(text, { secrets: [secret], cap: 8 })).toBe('xxxxx***…[truncated 4 bytes]');
  });

  it('notes output cut at capture time, with or without a count', () => {
    expect(sanitizeOutput('abc', { cap: 100, droppedBytes: 7 })).toBe('abc…[truncated 7 bytes]');
    expect(sanitizeOutput('abc', { cap: 100, truncated: true })).toBe('abc…[truncated]');
    expect(sanitizeOutput(null, { cap: 10 })).toBeNull();
  });
});
