/**
 * `jobyard credentials …` as an operator runs it (the built bin, both backends): secrets come on
 * stdin, never argv; afterwards no secret is in clear anywhere in the database (every table's
 * text and bytes), in any output or log line (LOG_LEVEL=trace), or in the audit log; a wrong
 * unlock secret is one clear line and changes nothing; bad input is exit 2 naming the field,
 * nothing written. Needs `npm run build`.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { CredentialLock, createDatabaseCredentialProvider, unlockCredentials } from '../../src/credentials/index.js';
import { toJson } from '../../src/db/dialect.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { JOBYARD_BIN } from '../helpers/cli.js';
import { insertJob } from '../helpers/jobs.js';
import { migratedTables } from '../helpers/tables.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin with `input` on its stdin (not a terminal, so nothing prompts). */
function jobyard(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JOBYARD_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Every row of every table as text: strings as they are, bytes as UTF-8 and as hex. */
async function databaseText(ctx: BackendContext): Promise<string> {
  const parts: string[] = [];
  for (const table of await migratedTables(ctx.store)) {
    const rows = await (ctx.db as any).selectFrom(table).selectAll().execute();
    for (const row of rows as Record<string, unknown>[]) {
      for (const value of Object.values(row)) {
        if (Buffer.isBuffer(value) || value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'), Buffer.from(value).toString('hex'));
        else parts.push(typeof value === 'string' ? value : JSON.stringify(value));
      }
    }
  }
  return parts.join('\n');
}

const SECRETS = {
  unlock: 'unlock-SECRET-4f1e2d',
  password: 'pw-SECRET-9a8b7c',
  passphrase: 'pp-SECRET-1a2b3c',
  privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nkey-SECRET-77aa66bb\n-----END OPENSSH PRIVATE KEY-----\n',
  newUnlock: 'new-unlock-SECRET-c0ffee',
  update: 'updated-pw-SECRET-5e5e',
};

describeBackends('jobyard credentials (CLI)', (ctx) => {
  let dir = '';
  let keyFile = '';
  const env = () => ({ DATABASE_URL: ctx.url, CREDENTIALS_KEY_FILE: keyFile });
  const outputs: string[] = [];
  const runLogged = async (args: string[], over: Record<string, string> = {}, input = '') => {
    const r = await jobyard(args, { ...env(), ...over }, input);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const run = runLogged;
  const expectNoSecret = (text: string) => {
    for (const s of [SECRETS.unlock, SECRETS.password, SECRETS.passphrase, 'key-SECRET-77aa66bb', SECRETS.newUnlock, SECRETS.update]) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(Buffer.from(s).toString('hex'));
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobyard-creds-'));
    keyFile = join(dir, 'unlock.key');
    writeFileSync(keyFile, `${SECRETS.unlock}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'id_ed25519'), SECRETS.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'new.key'), SECRETS.newUnlock, { mode: 0o600 });
    writeFileSync(join(dir, 'wrong.key'), 'not-the-secret', { mode: 0o600 });
    writeFileSync(join(dir, 'open.key'), SECRETS.unlock, { mode: 0o644 });
    chmodSync(join(dir, 'open.key'), 0o644);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => ctx.truncateAll());

  it('add, list, show, update, status, rotate-key, remove: no secret in clear in the database, any output, log or audit row', async () => {
    // Every log line pino writes (to stdout, beside the output) is captured with the output.
    const run = (args: string[], over: Record<string, string> = {}, input = '') => runLogged(args, { LOG_LEVEL: 'trace', ...over }, input);
    const lastLine = (text: string) => text.trim().split('\n').pop()!;
    const site = await createSite(ctx.store, { name: 'lab' }, 4_102_444_800_000);
    const add = await run(
      ['credentials', 'add', '--name', 'lab-ssh', '--site', 'lab', '--type', 'machine', '--connection', 'ssh', '--username', 'deploy', '--password', '--passphrase', '--private-key-file', join(dir, 'id_ed25519'), '--json'],
      {},
      JSON.stringify({ password: SECRETS.password, private_key_passphrase: SECRETS.passphrase }),
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const info = JSON.parse(lastLine(add.stdout)) as { id: number; site_id: number; secrets_set: string[] };
    expect(info).toMatchObject({ name: 'lab-ssh', site_id: site.id, site_name: 'lab', username: 'deploy', credential_type: 'machine', connection_type: 'ssh' });
    expect(info.secrets_set).toEqual(['password', 'private_key', 'private_key_passphrase']);

    const list = await run(['credentials', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/lab-ssh\s+machine\s+ssh\s+\d+ \(lab\)\s+deploy\s+password,private_key,private_key_passphrase/);
    expect(JSON.parse(lastLine((await run(['credentials', 'list', '--json'])).stdout))).toMatchObject({ items: [{ id: info.id }], next_cursor: null });
    const show = await run(['credentials', 'show', String(info.id)]);
    expect(show.stdout).toMatch(/secrets set\s+password, private_key, private_key_passphrase/);

    const update = await run(['credentials', 'update', String(info.id), '--password', '--username', 'ops'], {}, `${SECRETS.update}\n`);
    expect(update.code).toBe(0);
    const cleared = await run(['credentials', 'update', String(info.id), '--clear', 'private_key_passphrase']);
    expect(cleared.stdout).toContain('secrets set: password, private_key');

    const status = await run(['credentials', 'status', '--check']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/keyring\s+scrypt N=32768 r=8 p=1/);
    expect(status.stdout).toMatch(/unencrypted\s+0/);
    expect(status.stdout).toMatch(/unlock\s+ok/);

    // What a worker would decrypt: the values given, so they really are in there, encrypted.
    const { key } = await unlockCredentials(ctx.store, SECRETS.unlock);
    const material = await createDatabaseCredentialProvider(ctx.store, new CredentialLock(key)).get(info.id, { siteId: site.id });
    expect(material?.secrets).toEqual({ password: SECRETS.update, private_key: SECRETS.privateKey });
    expect(material?.username).toBe('ops');

    const audit = await ctx.db.selectFrom('audit_log').select(['actor', 'action', 'object_id', 'summary_json']).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['credential.keyring_init', 'credential.create', 'credential.update', 'credential.update']);
    expect(audit[1]).toMatchObject({ actor: expect.stringMatching(/^cli:/), object_id: String(info.id), summary_json: { fields: ['name', 'credential_type', 'connection_type', 'username', 'site', 'password', 'private_key', 'private_key_passphrase'] } });
    expect(audit[3]!.summary_json).toEqual({ fields: ['private_key_passphrase (cleared)'] });

    const rotate = await run(['credentials', 'rotate-key', '--new-key-file', join(dir, 'new.key')]);
    expect(rotate.stderr).toBe('');
    expect(rotate.stdout).toContain('re-encrypted 1 credential(s)');
    const oldKey = await run(['credentials', 'status', '--check']);
    expect(oldKey.code).toBe(2);
    expect(oldKey.stderr).toBe('jobyard: credentials: wrong unlock secret\n');
    expect((await run(['credentials', 'status', '--check'], { CREDENTIALS_KEY_FILE: join(dir, 'new.key') })).code).toBe(0);
    // An unlock command (no shell; its argv holds a path, never the secret) works the same.
    expect((await run(['credentials', 'status', '--check'], { CREDENTIALS_KEY_FILE: '', CREDENTIALS_UNLOCK_COMMAND: JSON.stringify(['cat', join(dir, 'new.key')]) })).stdout).toMatch(/unlock\s+ok/);

    expectNoSecret(await databaseText(ctx));
    expectNoSecret(outputs.join('\n'));
    expect(outputs.join('\n')).toContain('"level"'); // the trace logs really were captured

    const removed = await run(['credentials', 'remove', String(info.id)]);
    expect(removed.stdout).toContain(`credential ${info.id} removed\n`);
    expect(await ctx.db.selectFrom('credentials').select('id').execute()).toEqual([]);
  }, 120_000);

  it('a wrong unlock secret is one clear line, exit 2, and nothing is decrypted or written', async () => {
    const first = await run(['credentials', 'add', '--name', 'a', '--password'], {}, SECRETS.password);
    expect(first.code).toBe(0);
    const id = /credential (\d+)/.exec(first.stdout)![1]!;
    const before = await databaseText(ctx);
    const wrong = await run(['credentials', 'update', id, '--password'], { CREDENTIALS_KEY_FILE: join(dir, 'wrong.key') }, SECRETS.update);
    expect(wrong).toMatchObject({ code: 2, stdout: '' });
    expect(wrong.stderr).toBe('jobyard: credentials: wrong unlock secret\n');
    const added = await run(['credentials', 'add', '--name', 'b', '--password'], { CREDENTIALS_KEY_FILE: join(dir, 'wrong.key') }, SECRETS.update);
    expect(added.stderr).toBe('jobyard: credentials: wrong unlock secret\n');
    expect(await databaseText(ctx)).toBe(before);
  }, 60_000);

  it('bad input is exit 2 naming the field, and nothing is written (not even a keyring)', async () => {
    const cases: Array<[string[], Record<string, string>, string, RegExp]> = [
      [['credentials', 'add', '--name', 'x', '--type', 'nope', '--connection', 'telnet', '--password'], {}, 'pw', /type: expected one of machine, domain, token, got "nope"; connection_type: expected one of ssh, winrm, http, local/],
      [['credentials', 'add', '--name', 'x', '--site', '999', '--password'], {}, 'pw', /site: no site with id "999"/],
      [['credentials', 'add', '--name', 'x', '--password'], {}, '', /password: nothing on stdin/],
      [['credentials', 'add', '--name', 'x', '--password', '--passphrase'], {}, '{"password":"p"}', /private_key_passphrase: missing from the JSON object on stdin/],
      [['credentials', 'add', '--name', 'x', '--password'], { CREDENTIALS_KEY_FILE: join(dir, 'open.key') }, 'pw', /CREDENTIALS_KEY_FILE: .*open\.key is readable or writable by group or others \(mode 0644\); run chmod 600/],
      [['credentials', 'add', '--name', 'x', '--password'], { CREDENTIALS_UNLOCK_COMMAND: 'cat /nonexistent' }, 'pw', /CREDENTIALS_KEY_FILE, CREDENTIALS_UNLOCK_COMMAND: set one of them, not both/],
      [['credentials', 'add', '--name', 'x', '--password'], { CREDENTIALS_KEY_FILE: '' }, 'pw', /credentials locked: set CREDENTIALS_KEY_FILE or CREDENTIALS_UNLOCK_COMMAND, or run this on a terminal/],
      [['credentials', 'add', '--name', 'x', '--private-key-file', join(dir, 'missing')], {}, '', /private key file: cannot read .*missing: ENOENT/],
      [['credentials', 'update', '42', '--username', 'u'], {}, '', /no credential with id 42/],
      [['credentials', 'update', '1', '--clear', 'pasword'], {}, '', /pasword: not a secret field; expected one of password, private_key, private_key_passphrase, become_password/],
      [['credentials', 'show', 'abc'], {}, '', /credentials show: id: expected a positive integer/],
    ];
    for (const [args, over, input, message] of cases) {
      const r = await run(args, over, input);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    // A secret typed on the command line is refused by the parser, never stored.
    const onArgv = await run(['credentials', 'add', '--name', 'x', '--password', 'hunter2-SECRET']);
    expect(onArgv.code).toBe(2);
    expect(onArgv.stderr).not.toContain('hunter2-SECRET');
    expect(await ctx.db.selectFrom('credentials').select('id').execute()).toEqual([]);
    expect(await ctx.db.selectFrom('credential_keyring').select('id').execute()).toEqual([]);
    expect(await ctx.db.selectFrom('audit_log').select('id').execute()).toEqual([]);
  }, 120_000);

  it('remove is refused while a job uses the credential; a duplicate name is a conflict', async () => {
    const add = await run(['credentials', 'add', '--name', 'used', '--username', 'u']);
    expect(add.code).toBe(0);
    const id = Number(/credential (\d+)/.exec(add.stdout)![1]);
    await insertJob(ctx.db, { at: 4_102_444_800_000, credential_id: id, targets_json: toJson({ hostnames: ['h'] }) });
    const refused = await run(['credentials', 'remove', String(id)]);
    expect(refused).toMatchObject({ code: 2, stderr: `jobyard: credential ${id} (used) is used by 1 job(s); change or delete them first\n` });
    const dup = await run(['credentials', 'add', '--name', 'used']);
    expect(dup).toMatchObject({ code: 2, stderr: 'jobyard: name: a credential named "used" already exists\n' });
    expect(await ctx.db.selectFrom('credentials').select('id').execute()).toEqual([{ id }]);
  }, 60_000);
});
