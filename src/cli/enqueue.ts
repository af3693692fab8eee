import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.js';
import { prefixError, UserError } from '../errors.js';
import { defaultPriority, WORK_KINDS } from '../queue/kinds.js';
import { serialisePayload } from '../queue/payload.js';
import { print } from './output.js';
import { findNul, parseChoice, parseIntegerInRange, parseJsonObject, parseSite, parseTimestamp } from './options.js';
import { withStore } from './store.js';
import { findSiteById } from '../inventory/sites.js';

/** The kind whose items are site-less: the scheduler's service-action consumer claims them. */
const SITE_LESS_KIND = 'service_action';
/** Largest payload accepted, as JSON (README: limits). */
const MAX_PAYLOAD_BYTES = 1024 * 1024;

interface EnqueueOptions {
  kind: string;
  site: string;
  payload: string;
  dedupeKey?: string;
  priority?: string;
  lane: string;
  availableAt?: string;
  json?: boolean;
}

/** Registers `jobyard enqueue`: one work item by hand, through the queue's own enqueue. */
export function registerEnqueueCommand(program: Command): Command {
  const priorities = WORK_KINDS.map((k) => `${k} ${defaultPriority(k)}`).join(', ');
  return program
    .command('enqueue')
    .description('add one work item; prints its id and whether it was created or deduplicated (an item already held the dedupe key)')
    .requiredOption('--kind <kind>', `work kind (required): ${WORK_KINDS.join(', ')}`)
    .requiredOption('--site <id>', `site id whose workers run it (required); "none" for a site-less ${SITE_LESS_KIND}, which the scheduler runs`)
    .requiredOption('--payload <json>', 'payload, a JSON object without secret-named keys (required)')
    .option('--dedupe-key <key>', 'an item already holding this key is returned and nothing is created (default: none, always create)')
    .option('--priority <n>', `integer, higher runs first (default: the kind's: ${priorities})`)
    .option('--lane <lane>', 'worker lane', 'default')
    .option('--available-at <time>', 'not claimable before this: epoch ms or ISO-8601 with Z or an offset (default: now)')
    .option('--json', 'print {id, created, item} as JSON (default: one line)')
    .action(async (options: EnqueueOptions) => {
      // Everything is checked before the database is opened: bad input needs no database.
      const kind = parseChoice(options.kind, 'enqueue: --kind', WORK_KINDS);
      const siteId = parseSite(options.site, 'enqueue: --site');
      if (kind === SITE_LESS_KIND && siteId !== null) {
        throw new UserError(`enqueue: --site: ${SITE_LESS_KIND} items are site-less (the scheduler runs them); pass --site none`);
      }
      if (kind !== SITE_LESS_KIND && siteId === null) {
        throw new UserError(`enqueue: --site: ${kind} items run on a site's worker; pass a site id (only ${SITE_LESS_KIND} takes "none")`);
      }
      const payload = parseJsonObject(options.payload, 'enqueue: --payload');
      const nul = findNul(payload);
      if (nul !== null) throw new UserError(`enqueue: --payload: ${nul} contains a NUL character (\\u0000), which cannot be stored`);
      const text = serialisePayload(payload, 'enqueue: --payload'); // refuses secret-named keys, with the queue's own message
      if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
        throw new UserError(`enqueue: --payload: ${Buffer.byteLength(text)} bytes as JSON; the limit is ${MAX_PAYLOAD_BYTES} (1 MiB)`);
      }
      if (kind === SITE_LESS_KIND) {
        // The same check `jobyard services` makes: the consumer would only fail such an item.
        const { checkServiceActionRequest } = await import('../services/service-key.js');
        const check = checkServiceActionRequest(payload);
        if (!check.ok) throw new UserError(`enqueue: --payload: ${check.error}`);
      }
      // priority is an `integer` column: PostgreSQL refuses anything beyond 32 bits.
      const priority = options.priority === undefined ? undefined : parseIntegerInRange(options.priority, 'enqueue: --priority', -2_147_483_648, 2_147_483_647);
      const availableAt = options.availableAt === undefined ? undefined : parseTimestamp(options.availableAt, 'enqueue: --available-at');
      if (options.dedupeKey !== undefined && options.dedupeKey.trim() === '') throw new UserError('enqueue: --dedupe-key: must not be empty');
      if (options.lane.trim() === '') throw new UserError('enqueue: --lane: must not be empty');
      for (const [name, value] of [['--dedupe-key', options.dedupeKey], ['--lane', options.lane]] as const) {
        if (value !== undefined && /[\u0000-\u001f\u007f-\u009f]/.test(value)) throw new UserError(`enqueue: ${name}: must not contain control characters`);
      }

      await withStore(async (store) => {
        if (siteId !== null && !(await findSiteById(store, siteId))) {
          throw new UserError(`enqueue: --site: no site with id ${siteId}`);
        }
        const { enqueueAsOperator } = await import('../queue/operator-actions.js');
        const { item, created } = await enqueueAsOperator(
          store,
          {
            kind,
            siteId,
            lane: options.lane,
            payload,
            ...(priority !== undefined ? { priority } : {}),
            ...(availableAt !== undefined ? { availableAt } : {}),
            ...(options.dedupeKey !== undefined ? { dedupeKey: options.dedupeKey } : {}),
          },
          cliActor(),
          { now: Date.now() },
        ).catch((err: unknown) => {
          throw prefixError(err, 'enqueue');
        });
        if (options.json) return print(JSON.stringify({ id: item.id, created, item }));
        print(
          created
            ? `${item.id} created`
            : `${item.id} deduplicated: dedupe key ${JSON.stringify(item.dedupe_key)} already held by this ${item.status} ${item.kind} item; nothing created`,
        );
      });
    });
}
