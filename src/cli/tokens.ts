import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.js';
import { ROLES } from '../auth/roles.js';
import { ValidationError } from '../errors.js';
import { iso, parsePositiveInt, print, printTable } from './output.js';
import { withStore } from './store.js';

/** Registers `jobyard tokens create|list|revoke` (API tokens; src/auth/tokens.ts). */
export function registerTokensCommand(program: Command): Command {
  const tokens = program.command('tokens').description('create, list and revoke HTTP API tokens (roles: viewer < operator < admin)');

  tokens
    .command('create')
    .description('create a token and print it once on stdout (nothing else); only its SHA-256 is stored')
    .requiredOption('--name <name>', 'unique name, 1-64 letters, digits, ".", "_", "-" (the audit log shows token:<name>)')
    .requiredOption('--role <role>', `${ROLES.join(', ')}: viewer reads; operator also writes jobs, runs, items, inventory; admin also credentials, service actions, tokens, audit`)
    .action(async (options: { name: string; role: string }) => {
      const { checkTokenRequest, createApiToken } = await import('../auth/tokens.js');
      // Checked before the database is opened: bad input needs no database to be reported.
      const problems = checkTokenRequest(options).map((p) => `tokens create: --${p}`);
      if (problems.length > 0) throw new ValidationError(problems);
      await withStore(async (store) => {
        const { token, info } = await createApiToken(store, options, cliActor());
        process.stdout.write(`${token}\n`);
        process.stderr.write(`token "${info.name}" (${info.role}) created; it is shown only now: store it safely\n`);
      });
    });

  tokens
    .command('list')
    .description('list tokens, newest first (never their values)')
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .option('--json', 'print { items, next_cursor } as JSON (default: a table)')
    .action(async (options: { limit: string; cursor?: string; json?: boolean }) => {
      const limit = parsePositiveInt(options.limit, 'tokens list: --limit', 1000);
      await withStore(async (store) => {
        const { listApiTokens } = await import('../auth/tokens.js');
        const page = await listApiTokens(store, { limit, ...(options.cursor !== undefined ? { cursor: options.cursor } : {}) });
        if (options.json) return print(JSON.stringify(page));
        if (page.items.length === 0) return print('no tokens');
        printTable(
          ['name', 'role', 'created', 'created by', 'last used', 'revoked'],
          page.items.map((t) => [t.name, t.role, iso(t.created_at), t.created_by, iso(t.last_used_at), t.revoked_at === null ? '-' : iso(t.revoked_at)]),
        );
        if (page.next_cursor) print(`more: --cursor ${page.next_cursor}`);
      });
    });

  tokens
    .command('revoke')
    .description('revoke a token: it stops working at once (its row stays for the audit log)')
    .argument('<name>', 'the token name')
    .action(async (name: string) => {
      await withStore(async (store) => {
        const { revokeApiToken } = await import('../auth/tokens.js');
        const { prefixError } = await import('../errors.js');
        await revokeApiToken(store, name, cliActor()).catch((err: unknown) => {
          throw prefixError(err, 'tokens revoke');
        });
        print(`token "${name}" revoked`);
      });
    });
  return tokens;
}
