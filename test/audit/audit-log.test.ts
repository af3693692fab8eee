import { beforeEach, describe, expect, it } from 'vitest';
import { cliActor, listAudit, pruneAudit, recordAudit, redactSecrets } from '../../src/audit/audit-log.js';
import { describeBackends } from '../helpers/backends.js';

describe('audit summaries never hold a secret', () => {
  it('replaces the value of every secret-named key, at any depth, and keeps the rest', () => {
    expect(
      redactSecrets({ name: 'db', password: 'hunter2', nested: [{ apiKey: 'k', port: 22 }], secret_ref: null }),
    ).toEqual({ name: 'db', password: '[redacted]', nested: [{ apiKey: '[redacted]', port: 22 }], secret_ref: null });
  });

  it('names the CLI actor after the operating-system user', () => {
    expect(cliActor()).toMatch(/^cli:.+/);
  });
});

describeBackends('audit log', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  it('records who did what to which object, with a redacted summary, newest first', async () => {
    await recordAudit(ctx.db, { actor: 'cli:alice', action: 'site.create', objectType: 'site', objectId: 7, summary: { name: 'Lyon' }, at: 1000 });
    await recordAudit(ctx.db, {
      actor: 'token:ci',
      action: 'credential.create',
      objectType: 'credential',
      objectId: 'c1',
      summary: { name: 'root', password: 'hunter2' },
      at: 2000,
    });
    const page = await listAudit(ctx.db);
    expect(page.next_cursor).toBeNull();
    expect(page.items.map((r) => [r.actor, r.action, r.object_type, r.object_id, r.at])).toEqual([
      ['token:ci', 'credential.create', 'credential', 'c1', 2000],
      ['cli:alice', 'site.create', 'site', '7', 1000],
    ]);
    expect(page.items[0]!.summary).toEqual({ name: 'root', password: '[redacted]' });
    const raw = await ctx.db.selectFrom('audit_log').select('summary_json').execute();
    expect(JSON.stringify(raw)).not.toContain('hunter2');
  });

  it('pages with a cursor and filters by object, actor and time', async () => {
    for (let i = 1; i <= 5; i++) {
      await recordAudit(ctx.db, { actor: i % 2 ? 'cli:a' : 'cli:b', action: 'site.rename', objectType: 'site', objectId: i, at: i * 100 });
    }
    const first = await listAudit(ctx.db, { limit: 2 });
    expect(first.items.map((r) => r.object_id)).toEqual(['5', '4']);
    const second = await listAudit(ctx.db, { limit: 2, cursor: first.next_cursor! });
    expect(second.items.map((r) => r.object_id)).toEqual(['3', '2']);
    const third = await listAudit(ctx.db, { limit: 2, cursor: second.next_cursor! });
    expect(third.items.map((r) => r.object_id)).toEqual(['1']);
    expect(third.next_cursor).toBeNull();
    expect((await listAudit(ctx.db, { actor: 'cli:b' })).items.map((r) => r.object_id)).toEqual(['4', '2']);
    expect((await listAudit(ctx.db, { objectId: '3' })).items).toHaveLength(1);
    expect((await listAudit(ctx.db, { since: 400 })).items.map((r) => r.object_id)).toEqual(['5', '4']);
  });

  it('refuses a cursor it did not issue and a limit out of range, naming the field', async () => {
    await expect(listAudit(ctx.db, { cursor: 'nonsense' })).rejects.toThrow(/^cursor: /);
    await expect(listAudit(ctx.db, { limit: 0 })).rejects.toThrow(/^limit: must be an integer from 1 to 1000/);
  });

  it('prunes rows older than the retention and keeps the rest', async () => {
    await recordAudit(ctx.db, { actor: 'cli:a', action: 'site.delete', objectType: 'site', objectId: 1, at: 100 });
    await recordAudit(ctx.db, { actor: 'cli:a', action: 'site.delete', objectType: 'site', objectId: 2, at: 300 });
    expect(await pruneAudit(ctx.db, 200)).toBe(1);
    expect((await listAudit(ctx.db)).items.map((r) => r.object_id)).toEqual(['2']);
  });
});
