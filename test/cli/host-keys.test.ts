/**
 * `jobyard devices host-key show|repin` in-process: the pinned key is shown, re-pinning removes
 * it with an audit row in the same transaction, and unknown devices or missing pins are one-line
 * errors (exit 2) that write nothing. `devices show` lists the device's pins too.
 */
import { beforeEach, expect, it } from 'vitest';
import { registerDevicesCommand } from '../../src/cli/devices.js';
import { registerHostKeyCommand } from '../../src/cli/host-keys.js';
import { UserError } from '../../src/errors.js';
import { addressSubject, checkHostKey, deviceSubject } from '../../src/executors/ssh/host-keys.js';
import { upsertDevice } from '../../src/inventory/devices.js';
import { describeBackends } from '../helpers/backends.js';
import { cliRunner, useDatabaseUrl } from '../helpers/cli.js';

const jobyard = cliRunner([registerDevicesCommand, registerHostKeyCommand]);
/** An ssh-ed25519 public-key blob (type string, then 32 key bytes). */
const KEY = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
const T = 4_102_444_800_000;

describeBackends('jobyard devices host-key', (ctx) => {
  useDatabaseUrl(() => ctx.url);
  beforeEach(() => ctx.truncateAll());

  it('shows the pinned key, and repin removes it with an audit row', async () => {
    await upsertDevice(ctx.store, { guid: 'g-1', hostname: 'Web-1', status: 'online', last_seen: T }, T);
    expect((await jobyard(['devices', 'host-key', 'show', 'web-1'])).stdout).toBe('device Web-1: no SSH host key pinned yet (the first contact pins one)\n');
    const check = await checkHostKey(ctx.store, deviceSubject('g-1'), KEY, { hostname: 'Web-1', address: '10.0.0.5:22' }, T);
    expect(check).toMatchObject({ ok: true, pinned: true });
    expect(check.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);

    const shown = JSON.parse((await jobyard(['devices', 'host-key', 'show', 'web-1', '--json'])).stdout);
    expect(shown).toEqual([expect.objectContaining({ subject: 'device:g-1', hostname: 'Web-1', key_type: 'ssh-ed25519', fingerprint: check.fingerprint, address: '10.0.0.5:22' })]);
    expect((await jobyard(['devices', 'host-key', 'show', 'web-1'])).stdout).toContain(`ssh-ed25519  ${check.fingerprint}`);

    const repin = await jobyard(['devices', 'host-key', 'repin', 'web-1']);
    expect(repin.error).toBeUndefined();
    expect(repin.stdout).toBe(`device Web-1: removed pinned ssh-ed25519 ${check.fingerprint}; the next SSH contact pins the key it is shown\n`);
    expect(await ctx.db.selectFrom('ssh_host_keys').selectAll().execute()).toEqual([]);
    const audit = await ctx.db.selectFrom('audit_log').selectAll().execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'device.host_key_repin', object_type: 'device', object_id: 'Web-1' });
    expect(audit[0]!.actor).toMatch(/^cli:/);
  });

  it('devices show lists the pinned keys (table and JSON), and none before the first contact', async () => {
    await upsertDevice(ctx.store, { guid: 'g-4', hostname: 'app-4', status: 'online', last_seen: T }, T);
    await checkHostKey(ctx.store, deviceSubject('g-9'), KEY, { hostname: 'other', address: '10.0.0.9:22' }, T);
    const before = await jobyard(['devices', 'show', 'app-4']);
    expect(before.error).toBeUndefined();
    expect(before.stdout).toContain('SSH host keys: none pinned yet (the first SSH contact pins one)\n');
    expect(JSON.parse((await jobyard(['devices', 'show', 'app-4', '--json'])).stdout).ssh_host_keys).toEqual([]);

    const check = await checkHostKey(ctx.store, deviceSubject('g-4'), KEY, { hostname: 'app-4', address: '10.0.0.4:2222' }, T);
    const shown = JSON.parse((await jobyard(['devices', 'show', 'g-4', '--json'])).stdout);
    expect(shown).toMatchObject({ guid: 'g-4', hostname: 'app-4' });
    expect(shown.ssh_host_keys).toEqual([{ key_type: 'ssh-ed25519', fingerprint: check.fingerprint, address: '10.0.0.4:2222', pinned_at: T, last_seen_at: T }]);
    const table = (await jobyard(['devices', 'show', 'APP-4'])).stdout;
    expect(table).toContain('SSH host keys:\n');
    expect(table).toMatch(new RegExp(`ssh-ed25519\\s+${check.fingerprint.replace(/[+/]/g, '\\$&')}\\s+10\\.0\\.0\\.4:2222\\s+2100-01-01T00:00:00\\.000Z`));
    expect(table).not.toContain(KEY.toString('base64'));
  });

  it('a changed key is refused and never replaces the pin', async () => {
    await checkHostKey(ctx.store, deviceSubject('g-2'), KEY, { hostname: 'db-2', address: 'db-2:22' }, T);
    const other = Buffer.from(KEY);
    other[other.length - 1] = 9;
    const check = await checkHostKey(ctx.store, deviceSubject('g-2'), other, { hostname: 'db-2', address: 'db-2:22' }, T + 1);
    expect(check.ok).toBe(false);
    expect(check.reason).toMatch(/^host key changed: pinned ssh-ed25519 SHA256:\S+, host presented ssh-ed25519 SHA256:\S+ \(re-pin with: jobyard devices host-key repin db-2\)$/);
    const [pin] = await ctx.db.selectFrom('ssh_host_keys').selectAll().execute();
    expect(pin!.public_key).toBe(KEY.toString('base64'));
  });

  it('re-pins an address pinned by onboarding, and refuses a bad or ambiguous request', async () => {
    await checkHostKey(ctx.store, addressSubject('10.1.2.3', 22), KEY, { hostname: null, address: '10.1.2.3:22' }, T);
    const other = Buffer.from(KEY);
    other[other.length - 1] = 9;
    const refused = await checkHostKey(ctx.store, addressSubject('10.1.2.3', 22), other, { hostname: null, address: '10.1.2.3:22' }, T + 1);
    expect(refused.reason).toMatch(/\(re-pin with: jobyard devices host-key repin --address 10\.1\.2\.3:22\)$/);
    const r = await jobyard(['devices', 'host-key', 'repin', '--address', '10.1.2.3']);
    expect(r.error).toBeUndefined();
    expect(r.stdout).toMatch(/^address 10\.1\.2\.3:22: removed pinned ssh-ed25519 SHA256:/);
    expect(await ctx.db.selectFrom('audit_log').select(['action', 'object_type', 'object_id']).execute()).toEqual([
      { action: 'ssh_address.host_key_repin', object_type: 'ssh_address', object_id: '10.1.2.3:22' },
    ]);
    for (const [args, message] of [
      [['devices', 'host-key', 'repin'], 'devices host-key repin: give a hostname or --address host[:port], not both'],
      [['devices', 'host-key', 'repin', 'x', '--address', '10.1.2.3'], 'devices host-key repin: give a hostname or --address host[:port], not both'],
      [['devices', 'host-key', 'repin', '--address', 'http://x'], 'devices host-key repin: --address must be host, host:port or [v6]:port, got "http://x"'],
    ] as const) {
      const bad = await jobyard([...args]);
      expect((bad.error as UserError).message).toBe(message);
      expect((bad.error as UserError).exitCode).toBe(2);
    }
  });

  it('unknown devices and missing pins are one-line errors that write nothing', async () => {
    for (const args of [['devices', 'host-key', 'show', 'nope'], ['devices', 'host-key', 'repin', 'nope']]) {
      const r = await jobyard(args);
      expect(r.error).toBeInstanceOf(UserError);
      expect((r.error as UserError).message).toBe('devices host-key: no device with hostname "nope"');
      expect((r.error as UserError).exitCode).toBe(2);
    }
    await upsertDevice(ctx.store, { guid: 'g-3', hostname: 'bare', status: 'online', last_seen: T }, T);
    const r = await jobyard(['devices', 'host-key', 'repin', 'bare']);
    expect((r.error as UserError).message).toBe('device bare: no SSH host key is pinned (the next contact pins one)');
    expect(await ctx.db.selectFrom('audit_log').selectAll().execute()).toEqual([]);
  });
});
