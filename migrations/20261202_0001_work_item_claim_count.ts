/**
 * job_scheduler_work_items.claim_count: how many times the item has been claimed. Every claim adds
 * one and nothing ever takes one away (attempt_count, by contrast, goes back down when a graceful
 * shutdown refunds an attempt), so (id, claim_count) names exactly one claim. Completion, failure,
 * heartbeat and release are fenced on that pair: a worker whose lease expired and who claimed the
 * same item again cannot have its first attempt's late outcome taken for the second's.
 * Adding a NOT NULL column with a constant default rewrites no rows on either backend.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('job_scheduler_work_items')
    .addColumn('claim_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('job_scheduler_work_items').dropColumn('claim_count').execute();
}
