/**
 * The inventory commands as an operator runs them (the built `jobyard` binary): bad input is one
 * line on stderr with exit 2 and nothing on stdout; an import's report goes to stdout even when
 * records are refused (exit 2, nothing imported).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { describeBackends } from '../helpers/backends.js';
import { runJobyard as jobyard } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'jobyard-inventory-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeBackends('jobyard inventory commands (process)', (ctx) => {
  const env = () => ({ DATABASE_URL: ctx.url });
  beforeEach(() => ctx.truncateAll());

  it('creates a site and a device, and refuses bad input with one line and exit 2', async () => {
    expect(await jobyard(['sites', 'create', 'paris'], env())).toMatchObject({ code: 0, stdout: expect.stringMatching(/^site \d+ created: paris\n$/) });
    expect(await jobyard(['devices', 'add', 'ws-1', '--site', 'paris'], env())).toMatchObject({ code: 0 });
    expect(await jobyard(['sites', 'create', 'PARIS'], env())).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^jobyard: name: a site named "paris" already exists \(id \d+\)\n$/) });
    expect(await jobyard(['devices', 'add', 'ws-2', '--site', 'lyon'], env())).toEqual({ code: 2, stdout: '', stderr: 'jobyard: site: no site "lyon"\n' });
    expect(await jobyard(['sites', 'delete', 'paris'], env())).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^jobyard: site \d+ \("paris"\) is still in use: 1 assigned devices .*; nothing was deleted\n$/) });
    expect((await ctx.db.selectFrom('devices').select('hostname').execute()).map((d) => d.hostname)).toEqual(['ws-1']);
  });

  it('prints an import report line by line, and on a refused record exits 2 having imported nothing', async () => {
    await jobyard(['sites', 'create', 'paris'], env());
    const csv = join(dir, `devices-${ctx.backend}.csv`);
    writeFileSync(csv, 'hostname,site\nws-1,paris\nws-2,lyon\n');
    const r = await jobyard(['devices', 'import', csv], env());
    expect(r).toEqual({
      code: 2,
      stdout: 'line 2: add ws-1 (site paris)\nline 3: refused: site: no site "lyon"\n',
      stderr: 'jobyard: devices import: 1 of 2 records refused; nothing was imported (see the report above)\n',
    });
    expect(await ctx.db.selectFrom('devices').select('hostname').execute()).toEqual([]);
  });
});
