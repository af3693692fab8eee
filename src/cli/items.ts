import type { Command } from 'commander';
import { InvalidJson } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import { cliActor } from '../audit/audit-log.js';
import { prefixError, UserError } from '../errors.js';
import { findSiteById } from '../inventory/sites.js';
import { WORK_KINDS, WORK_STATUSES } from '../queue/kinds.js';
import { iso, parseId, parsePositiveInt, print, printTable } from './output.js';
import { parseChoice, parseSite } from './options.js';
import { withStore } from './store.js';

const TIMESTAMP_COLUMNS = new Set(['available_at', 'lease_expires_at', 'heartbeat_at', 'created_at', 'updated_at', 'started_at', 'finished_at']);

/** Registers `jobyard items list|show|retry|cancel`; returns the `items` command. */
export function registerItemsCommand(program: Command): Command {
  const items = program.command('items').description('inspect, retry and cancel work items (job_scheduler_work_items)');

  items
    .command('list')
    .description('list work items, newest first')
    .option('--status <status>', `only items in this status: ${WORK_STATUSES.join(', ')} (default: every status)`)
    .option('--kind <kind>', `only items of this kind: ${WORK_KINDS.join(', ')} (default: every kind)`)
    .option('--site <id>', 'only items of this site id, or "none" for site-less items (default: every site)')
    .option('--limit <n>', 'at most this many items (1–1000)', '50')
    .option('--json', 'print a JSON array of whole rows instead of a table (default: a table)')
    .action(async (options: { status?: string; kind?: string; site?: string; limit: string; json?: boolean }) => {
      // Checked before the database is opened: bad input needs no database to be reported.
      const status = options.status === undefined ? undefined : parseChoice(options.status, 'items list: --status', WORK_STATUSES);
      const kind = options.kind === undefined ? undefined : parseChoice(options.kind, 'items list: --kind', WORK_KINDS);
      const site = options.site === undefined ? undefined : parseSite(options.site, 'items list: --site');
      const limit = parsePositiveInt(options.limit, 'items list: --limit', 1000);
      await withStore(async (store) => {
        if (typeof site === 'number' && !(await findSiteById(store, site))) {
          throw new UserError(`items list: --site: no site with id ${site}`);
        }
        const { listWorkItems } = await import('../queue/admin.js');
        const rows = await listWorkItems(store, {
          statuses: status === undefined ? undefined : [status],
          kinds: kind === undefined ? undefined : [kind],
          siteId: site,
          limit,
        });
        if (options.json) return print(JSON.stringify(rows));
        if (rows.length === 0) return print('no work items');
        printTable(
          ['id', 'kind', 'site', 'lane', 'status', 'attempts', 'priority', 'available', 'updated', 'error'],
          rows.map((i) => [
            i.id,
            i.kind,
            i.site_id ?? 'none',
            i.lane,
            i.status,
            `${i.attempt_count}/${i.max_attempts}`,
            i.priority,
            iso(i.available_at),
            iso(i.updated_at),
            clip(i.error, 60),
          ]),
        );
      });
    });

  items
    .command('show')
    .description('show every column of one work item (payload and result as JSON)')
    .argument('<id>', 'work item id')
    .option('--json', 'print the row as one JSON object (default: one line per column)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parseId(idText, 'items show: id');
      await withStore(async (store) => {
        const item = await getItem(store, id, 'items show');
        if (options.json) return print(JSON.stringify(item));
        printTable(
          ['column', 'value'],
          Object.entries(item).map(([column, value]) => [column, showValue(column, value)]),
        );
      });
    });

  items
    .command('retry')
    .description('make an item claimable now: a queued item skips its delay; a finished one gets one more attempt (not a running one)')
    .argument('<id>', 'work item id')
    .option('--json', 'print the updated row as JSON (default: one line)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parseId(idText, 'items retry: id');
      await withStore(async (store) => {
        const { retryAsOperator } = await import('../queue/operator-actions.js');
        const item = await retryAsOperator(store, id, cliActor(), { now: Date.now() }).catch((err: unknown) => {
          throw prefixError(err, 'items retry');
        });
        if (options.json) return print(JSON.stringify(item));
        print(`work item ${id} queued, claimable now (attempts used ${item.attempt_count} of ${item.max_attempts})`);
      });
    });

  items
    .command('cancel')
    .description('cancel a queued or running item (a running item\'s worker loses its lease and its result is discarded)')
    .argument('<id>', 'work item id')
    .option('--json', 'print the updated row as JSON (default: one line)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parseId(idText, 'items cancel: id');
      await withStore(async (store) => {
        const { cancelAsOperator } = await import('../queue/operator-actions.js');
        const item = await cancelAsOperator(store, id, cliActor(), { now: Date.now() }).catch((err: unknown) => {
          throw prefixError(err, 'items cancel');
        });
        if (options.json) return print(JSON.stringify(item));
        print(`work item ${id} cancelled`);
      });
    });
  return items;
}

async function getItem(store: Store, id: number, command: string): Promise<WorkItem> {
  const { getWorkItem } = await import('../queue/admin.js');
  const item = await getWorkItem(store, id);
  if (!item) throw new UserError(`${command}: no work item with id ${id}`);
  return item;
}

function showValue(column: string, value: unknown): string {
  if (value == null) return '-';
  if (TIMESTAMP_COLUMNS.has(column) && typeof value === 'number') return `${iso(value)} (${value})`;
  // *_json columns arrive parsed; an unreadable SQLite cell arrives as InvalidJson, whose toString says so.
  if (column.endsWith('_json') && !(value instanceof InvalidJson)) return JSON.stringify(value);
  return String(value);
}

function clip(text: string | null, max: number): string {
  if (text == null) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
