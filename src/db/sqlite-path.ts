/**
 * Checks an SQLite database path and creates its folder, one level at a time, before the file is
 * opened. Every problem is a UserError naming DATABASE_URL: the path is a directory, a parent is
 * a file, or a folder cannot be created. (A recursive mkdir is avoided on purpose: under /proc it
 * retries forever instead of failing.)
 */
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describeError, UserError } from '../errors.js';

export function prepareSqlitePath(path: string): void {
  if (path === ':memory:') return;
  const file = resolve(path);
  const what = `DATABASE_URL sqlite:${path}`;
  const existing = statOrNull(file);
  if (existing?.isDirectory()) throw new UserError(`${what}: ${file} is a directory; expected the path of a database file (sqlite:PATH)`);

  const missing: string[] = [];
  let folder = dirname(file);
  let found = statOrNull(folder);
  while (found === null && dirname(folder) !== folder) {
    missing.unshift(folder);
    folder = dirname(folder);
    found = statOrNull(folder);
  }
  if (found !== null && !found.isDirectory()) {
    throw new UserError(`${what}: ${folder} is not a directory; expected the path of a database file (sqlite:PATH)`);
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      throw new UserError(`${what}: cannot create the folder ${dir}: ${describeError(err)}`);
    }
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    // ENOTDIR: a parent is a file; reported by the caller as "not a directory".
    if (code === 'ENOTDIR') return null;
    throw new UserError(`DATABASE_URL: cannot inspect ${path}: ${describeError(err)}`);
  }
}
