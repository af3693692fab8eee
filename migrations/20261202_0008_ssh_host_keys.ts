/**
 * ssh_host_keys: the SSH host key pinned for each remote host on first contact (trust on first
 * use, never replaced silently). `subject` names the host: `device:<guid>` for an inventory
 * device, `address:<host>:<port>` for an address reached before it is a device (onboarding).
 * A key that differs from the pinned one fails the connection ("host key changed") until an
 * operator re-pins (`jobyard devices host-key repin`).
 *
 * scheduled_job_run_targets gains what a remote run records per target: a one-line `detail`
 * (why it failed: unreachable, refused auth, host key changed, a missing sudo right, the exit
 * code), the last component's `exit_code` and the target's `duration_ms`.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await db.schema
    .createTable('ssh_host_keys')
    .addColumn('subject', 'text', (c) => c.primaryKey().notNull())
    .addColumn('hostname', 'text')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('key_type', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('pinned_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ix_ssh_host_keys_hostname').on('ssh_host_keys').column('hostname').execute();
  await db.schema.alterTable('scheduled_job_run_targets').addColumn('detail', 'text').execute();
  await db.schema.alterTable('scheduled_job_run_targets').addColumn('exit_code', 'integer').execute();
  await db.schema.alterTable('scheduled_job_run_targets').addColumn('duration_ms', 'integer').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['duration_ms', 'exit_code', 'detail']) {
    await db.schema.alterTable('scheduled_job_run_targets').dropColumn(column).execute();
  }
  await db.schema.dropTable('ssh_host_keys').execute();
}
