import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.js';
import { iso, parsePositiveInt, print, printTable } from './output.js';
import { withStore } from './store.js';

/** Registers `jobyard sites create|list|show|rename|delete`. A <site> is an id or a name. */
export function registerSitesCommand(program: Command): Command {
  const sites = program.command('sites').description('create, list, show, rename and delete sites');

  sites
    .command('create')
    .description('create a site')
    .argument('<name>', 'the site name (unique, regardless of case)')
    .option('--description <text>', 'what the site is (default: none)')
    .option('--json', 'print the new site as JSON (default: one line)')
    .action(async (name: string, options: { description?: string; json?: boolean }) => {
      await withStore(async (store) => {
        const { addSite } = await import('../inventory/site-admin.js');
        const site = await addSite(store, { name, description: options.description ?? null }, { actor: cliActor() });
        print(options.json ? JSON.stringify(site) : `site ${site.id} created: ${site.name}`);
      });
    });

  sites
    .command('list')
    .description('list sites by id')
    .option('--limit <n>', 'at most this many sites (1–1000)', '50')
    .option('--cursor <cursor>', 'the next page (the cursor a previous page printed) (default: the first page)')
    .option('--json', 'print { items, next_cursor } as JSON (default: a table)')
    .action(async (options: { limit: string; cursor?: string; json?: boolean }) => {
      const limit = parsePositiveInt(options.limit, 'sites list: --limit', 1000);
      await withStore(async (store) => {
        const { listSitePage } = await import('../inventory/site-admin.js');
        const page = await listSitePage(store, { limit, ...(options.cursor !== undefined ? { cursor: options.cursor } : {}) });
        if (options.json) return print(JSON.stringify(page));
        if (page.items.length === 0) return print('no sites');
        printTable(['id', 'name', 'devices', 'created', 'description'], page.items.map((s) => [s.id, s.name, s.devices, iso(s.created_at), s.description]));
        if (page.next_cursor) print(`more: --cursor ${page.next_cursor}`);
      });
    });

  sites
    .command('show')
    .description('show a site and everything that uses it')
    .argument('<site>', 'site id or name')
    .option('--json', 'print JSON (default: a table)')
    .action(async (ref: string, options: { json?: boolean }) => {
      await withStore(async (store) => {
        const { getSiteDetail } = await import('../inventory/site-admin.js');
        const { SITE_REFERENCES } = await import('../operator/references.js');
        const site = await getSiteDetail(store, ref, SITE_REFERENCES);
        if (options.json) return print(JSON.stringify(site));
        printTable(
          ['field', 'value'],
          [
            ['id', site.id],
            ['name', site.name],
            ['description', site.description ?? '-'],
            ['created', iso(site.created_at)],
            ['devices', site.devices],
            ...site.usage.map((u) => [u.what, `${u.count}${u.ids && u.ids.length > 0 ? ` (${u.ids.map((i) => `#${i}`).join(', ')})` : ''}`]),
          ],
        );
      });
    });

  sites
    .command('rename')
    .description('rename a site')
    .argument('<site>', 'site id or name')
    .argument('<new-name>', 'the new name')
    .option('--json', 'print the site as JSON (default: one line)')
    .action(async (ref: string, name: string, options: { json?: boolean }) => {
      await withStore(async (store) => {
        const { changeSiteName } = await import('../inventory/site-admin.js');
        const site = await changeSiteName(store, ref, name, { actor: cliActor() });
        print(options.json ? JSON.stringify(site) : `site ${site.id} renamed: ${site.name}`);
      });
    });

  sites
    .command('delete')
    .description('delete a site; refused while work items, live workers, jobs, filters, credentials or devices use it')
    .argument('<site>', 'site id or name')
    .option('--unassign-devices', 'delete even when devices are assigned to it; they become unassigned (default: refuse)')
    .option('--json', 'print the result as JSON (default: one line)')
    .action(async (ref: string, options: { unassignDevices?: boolean; json?: boolean }) => {
      await withStore(async (store) => {
        const { deleteSite } = await import('../inventory/site-admin.js');
        const { SITE_REFERENCES } = await import('../operator/references.js');
        const result = await deleteSite(store, ref, { actor: cliActor(), references: SITE_REFERENCES, unassignDevices: options.unassignDevices === true });
        if (options.json) return print(JSON.stringify(result));
        const unassigned = result.unassigned_devices > 0 ? `; ${result.unassigned_devices} devices are now unassigned` : '';
        print(`site ${result.site.id} deleted: ${result.site.name}${unassigned}`);
      });
    });
  return sites;
}
