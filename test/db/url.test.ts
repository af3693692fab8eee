import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  DEFAULT_DATABASE_URL,
  databaseFolder,
  databaseIdentity,
  isProcessLocal,
  maskUrl,
  parseDatabaseUrl,
  workerDatabaseUrl,
} from '../../src/db/url.js';

describe('parseDatabaseUrl', () => {
  it('defaults to the embedded SQLite file when unset or blank', () => {
    expect(DEFAULT_DATABASE_URL).toBe('sqlite:./data/jobyard.db');
    expect(parseDatabaseUrl(undefined)).toEqual({ backend: 'sqlite', path: './data/jobyard.db' });
    expect(parseDatabaseUrl('  ')).toEqual({ backend: 'sqlite', path: './data/jobyard.db' });
  });

  it('accepts sqlite:PATH, sqlite::memory:, sqlite:///abs and plain paths', () => {
    expect(parseDatabaseUrl('sqlite:/var/lib/jy.db')).toEqual({ backend: 'sqlite', path: '/var/lib/jy.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ backend: 'sqlite', path: ':memory:' });
    expect(parseDatabaseUrl('sqlite:///abs/jy.db')).toEqual({ backend: 'sqlite', path: '/abs/jy.db' });
    expect(parseDatabaseUrl('data/x.db')).toEqual({ backend: 'sqlite', path: 'data/x.db' });
    expect(parseDatabaseUrl('/tmp/x.db')).toEqual({ backend: 'sqlite', path: '/tmp/x.db' });
  });

  it('accepts postgres:// and postgresql://', () => {
    expect(parseDatabaseUrl('postgres://u@h/db').backend).toBe('postgres');
    expect(parseDatabaseUrl('postgresql://u@h/db').backend).toBe('postgres');
  });

  it('refuses other schemes with one line naming the accepted forms, password masked', () => {
    let error: unknown;
    try {
      parseDatabaseUrl('mysql://admin:hunter2@db/x');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    const message = (error as UserError).message;
    expect((error as UserError).exitCode).toBe(2);
    expect(message).not.toContain('hunter2');
    expect(message).toContain('mysql://admin:***@db/x');
    expect(message).toMatch(/sqlite:PATH.*postgres:\/\//);
    expect(message).not.toContain('\n');
  });
});

describe('parseDatabaseUrl: PostgreSQL URLs it cannot use', () => {
  it('refuses a port outside 1-65535 and a malformed URL, naming DATABASE_URL, password masked', () => {
    expect(() => parseDatabaseUrl('postgres://u:pw@h:99999/x')).toThrow(/^DATABASE_URL "postgres:\/\/u:\*\*\*@h:99999\/x": port "99999" is not a port number; expected 1-65535/);
    expect(() => parseDatabaseUrl('postgres://u@h:0/x')).toThrow(/port "0"/);
    expect(() => parseDatabaseUrl('postgres://u@h:54x/x')).toThrow(/port "54x"/);
    expect(() => parseDatabaseUrl('postgres://u@h x/db')).toThrow(/^DATABASE_URL "postgres:\/\/u@h x\/db" is not a valid URL/);
    expect(parseDatabaseUrl('postgres://u@h:65535/x').backend).toBe('postgres');
    expect(parseDatabaseUrl('postgres://u@[::1]:5432/x').backend).toBe('postgres');
  });
});

describe('maskUrl', () => {
  it('masks userinfo passwords and password parameters', () => {
    expect(maskUrl('postgres://jy:s3cret@db:5432/jy')).toBe('postgres://jy:***@db:5432/jy');
    expect(maskUrl('postgres://db/jy?user=a&password=s3cret&x=1')).toBe('postgres://db/jy?user=a&password=***&x=1');
    expect(maskUrl('postgres://jy@db/jy')).toBe('postgres://jy@db/jy');
  });
});

describe('what workers and deployments see of a database', () => {
  const sqlite = parseDatabaseUrl('sqlite:./data/x.db');
  const pg = parseDatabaseUrl('postgres://u:secret@db:5432/jobyard');

  it('gives workers a URL that opens the same database from any folder', () => {
    expect(workerDatabaseUrl(sqlite)).toBe(`sqlite:${process.cwd()}/data/x.db`);
    expect(workerDatabaseUrl(pg)).toBe('postgres://u:secret@db:5432/jobyard');
  });

  it('names the folder a worker container mounts: a SQLite file\'s, none for a server', () => {
    expect(databaseFolder(sqlite)).toBe(`${process.cwd()}/data`);
    expect(databaseFolder(pg)).toBeNull();
  });

  it('knows that only an in-memory database cannot be shared with workers', () => {
    expect(isProcessLocal(parseDatabaseUrl('sqlite::memory:'))).toBe(true);
    expect(isProcessLocal(sqlite)).toBe(false);
    expect(isProcessLocal(pg)).toBe(false);
  });

  it('identifies a database the same way from every process, without its password', () => {
    expect(databaseIdentity(sqlite)).toBe(databaseIdentity(parseDatabaseUrl(`sqlite:${process.cwd()}/data/x.db`)));
    expect(databaseIdentity(pg)).toBe('postgres://u:***@db:5432/jobyard');
  });
});
