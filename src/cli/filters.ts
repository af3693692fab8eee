import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.js';
import { loadConfig } from '../config.js';
import type { FilterView } from '../inventory/filter-admin.js';
import { readJsonFile } from './input-file.js';
import { iso, parseId, parsePositiveInt, print, printTable } from './output.js';
import { withStore } from './store.js';

/** Registers `jobyard filters create|update|list|show|delete|test`. */
export function registerFiltersCommand(program: Command): Command {
  const filters = program.command('filters').description('saved device filters: create, update, list, show, delete, test');

  filters
    .command('create')
    .description('create a filter from a JSON file (name, criteria, and optionally description, criteria_mode, site_mode, sites, archived)')
    .requiredOption('--file <path>', 'the filter definition (JSON); - for stdin (required)')
    .option('--json', 'print the filter as JSON (default: one line)')
    .action(async (options: { file: string; json?: boolean }) => {
      const definition = await readJsonFile(options.file, 'filters create: --file');
      await withStore(async (store) => {
        const { createFilter } = await import('../inventory/filter-admin.js');
        const filter = await createFilter(store, definition, { actor: cliActor(), now: Date.now() });
        print(options.json ? JSON.stringify(filter) : `filter ${filter.id} created: ${filter.name}`);
      });
    });

  filters
    .command('update')
    .description('replace a filter\'s definition with a JSON file (as for create)')
    .argument('<id>', 'filter id')
    .requiredOption('--file <path>', 'the filter definition (JSON); - for stdin (required)')
    .option('--json', 'print the filter as JSON (default: one line)')
    .action(async (idText: string, options: { file: string; json?: boolean }) => {
      const id = parseId(idText, 'filters update: id');
      const definition = await readJsonFile(options.file, 'filters update: --file');
      await withStore(async (store) => {
        const { updateFilter } = await import('../inventory/filter-admin.js');
        const filter = await updateFilter(store, id, definition, { actor: cliActor(), now: Date.now() });
        print(options.json ? JSON.stringify(filter) : `filter ${filter.id} updated: ${filter.name}`);
      });
    });

  filters
    .command('list')
    .description('list filters by id')
    .option('--limit <n>', 'at most this many filters (1–1000)', '50')
    .option('--cursor <cursor>', 'the next page (the cursor a previous page printed) (default: the first page)')
    .option('--json', 'print { items, next_cursor } as JSON (default: a table)')
    .action(async (options: { limit: string; cursor?: string; json?: boolean }) => {
      const limit = parsePositiveInt(options.limit, 'filters list: --limit', 1000);
      await withStore(async (store) => {
        const { listFilterPage } = await import('../inventory/filter-admin.js');
        const page = await listFilterPage(store, { limit, ...(options.cursor !== undefined ? { cursor: options.cursor } : {}) });
        if (options.json) return print(JSON.stringify(page));
        if (page.items.length === 0) return print('no filters');
        printTable(
          ['id', 'name', 'mode', 'sites', 'archived', 'valid', 'updated'],
          page.items.map((f) => [f.id, f.name, f.criteria_mode, sitesText(f), f.archived ? 'yes' : 'no', f.problems.length === 0 ? 'yes' : 'NO', iso(f.updated_at)]),
        );
        if (page.next_cursor) print(`more: --cursor ${page.next_cursor}`);
      });
    });

  filters
    .command('show')
    .description('show a filter')
    .argument('<id>', 'filter id')
    .option('--json', 'print JSON (default: a table)')
    .option('--definition', 'print only the definition, as create and update accept it (default: every field)')
    .action(async (idText: string, options: { json?: boolean; definition?: boolean }) => {
      const id = parseId(idText, 'filters show: id');
      await withStore(async (store) => {
        const { getFilter } = await import('../inventory/filter-admin.js');
        const f = await getFilter(store, id);
        if (options.definition) {
          const { name, description, criteria_mode, site_mode, sites, criteria, archived } = f;
          return print(JSON.stringify({ name, description, criteria_mode, site_mode, ...(site_mode === 'specific' ? { sites } : {}), archived, criteria }, null, 2));
        }
        if (options.json) return print(JSON.stringify(f));
        printTable(
          ['field', 'value'],
          [
            ['id', f.id],
            ['name', f.name],
            ['description', f.description ?? '-'],
            ['criteria_mode', f.criteria_mode],
            ['site_mode', f.site_mode],
            ['sites', sitesText(f)],
            ['archived', f.archived ? 'yes' : 'no'],
            ['criteria', JSON.stringify(f.criteria)],
            ['problems', f.problems.length === 0 ? 'none' : f.problems.join('; ')],
            ['last edited by', f.last_edited_by ?? '-'],
            ['updated', iso(f.updated_at)],
          ],
        );
      });
    });

  filters
    .command('delete')
    .description('delete a filter; refused while scheduled jobs use it')
    .argument('<id>', 'filter id')
    .option('--json', 'print the result as JSON (default: one line)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parseId(idText, 'filters delete: id');
      await withStore(async (store) => {
        const { deleteFilter } = await import('../inventory/filter-admin.js');
        const { FILTER_REFERENCES } = await import('../operator/references.js');
        const deleted = await deleteFilter(store, id, { actor: cliActor(), references: FILTER_REFERENCES });
        print(options.json ? JSON.stringify(deleted) : `filter ${deleted.id} deleted: ${deleted.name}`);
      });
    });

  filters
    .command('test')
    .description('which devices the filter matches now, and why (with near misses)')
    .argument('<id>', 'filter id')
    .option('--json', 'print JSON (default: a table)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parseId(idText, 'filters test: id');
      const offlineAfterMs = loadConfig().OFFLINE_AFTER_SECONDS * 1000;
      await withStore(async (store) => {
        const { testFilter } = await import('../inventory/filter-admin.js');
        const result = await testFilter(store, id, { now: Date.now(), offlineAfterMs });
        if (options.json) return print(JSON.stringify(result));
        for (const p of result.problems) print(`problem: ${p}`);
        print(`filter ${result.filter.id} (${result.filter.name}) matches ${result.matches.length} of ${result.examined} devices`);
        for (const d of result.matches) {
          print(`${d.hostname} (site ${d.site_id ?? 'none'}, ${d.state})`);
          for (const r of d.reasons) print(`  because ${r}`);
        }
        if (result.near_misses.length > 0) print(`near misses: ${result.near_misses.length}`);
        for (const d of result.near_misses) {
          print(`${d.hostname} (site ${d.site_id ?? 'none'}, ${d.state})`);
          for (const r of d.reasons) print(`  not matched: ${r}`);
        }
      });
    });
  return filters;
}

function sitesText(f: FilterView): string {
  return f.site_mode === 'all' ? 'all' : f.sites.join(', ');
}
