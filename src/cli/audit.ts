import type { Command } from 'commander';
import { iso, parsePositiveInt, print, printTable } from './output.js';
import { parseTimestamp } from './options.js';
import { withStore } from './store.js';

interface AuditListOptions {
  actor?: string;
  action?: string;
  type?: string;
  id?: string;
  since?: string;
  limit: string;
  cursor?: string;
  json?: boolean;
}

/** Registers `jobyard audit list`: who changed what, newest first (src/audit/audit-log.ts). */
export function registerAuditCommand(program: Command): Command {
  const audit = program.command('audit').description('the audit log: every write made through the CLI or the HTTP API');
  audit
    .command('list')
    .description('audit rows, newest first')
    .option('--actor <actor>', 'only this actor, e.g. token:ci or cli:alice')
    .option('--action <action>', 'only this action, e.g. work_item.cancel')
    .option('--type <type>', 'only this object type, e.g. job')
    .option('--id <id>', 'only this object id')
    .option('--since <time>', 'only rows at or after: epoch ms or ISO-8601 with Z or an offset')
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .option('--json', 'print { items, next_cursor } as JSON (default: a table)')
    .action(async (options: AuditListOptions) => {
      const limit = parsePositiveInt(options.limit, 'audit list: --limit', 1000);
      const since = options.since === undefined ? undefined : parseTimestamp(options.since, 'audit list: --since');
      await withStore(async (store) => {
        const { listAudit } = await import('../audit/audit-log.js');
        const { prefixError } = await import('../errors.js');
        const page = await listAudit(store.db, {
          limit,
          ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
          ...(options.actor !== undefined ? { actor: options.actor } : {}),
          ...(options.action !== undefined ? { action: options.action } : {}),
          ...(options.type !== undefined ? { objectType: options.type } : {}),
          ...(options.id !== undefined ? { objectId: options.id } : {}),
          ...(since !== undefined ? { since } : {}),
        }).catch((err: unknown) => {
          throw prefixError(err, 'audit list');
        });
        if (options.json) return print(JSON.stringify(page));
        if (page.items.length === 0) return print('no audit rows');
        printTable(
          ['at', 'actor', 'action', 'object', 'summary'],
          page.items.map((a) => [iso(a.at), a.actor, a.action, `${a.object_type}${a.object_id === null ? '' : ` ${a.object_id}`}`, JSON.stringify(a.summary)]),
        );
        if (page.next_cursor) print(`more: --cursor ${page.next_cursor}`);
      });
    });
  return audit;
}
