/**
 * `jobyard credentials add|list|show|update|remove|rotate-key|status`. Secrets never come from
 * argv or the environment: `--password`, `--passphrase` and `--become-password` only say which
 * secrets to read, from a no-echo prompt on a terminal or else from stdin (one secret: the whole
 * input; several: a JSON object of them); a private key comes from a file (`--private-key-file`:
 * the path is on argv, never the key). list and show print metadata and which secrets are set.
 * The unlock secret comes from CREDENTIALS_KEY_FILE, CREDENTIALS_UNLOCK_COMMAND or a prompt.
 */
import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.js';
import { loadConfig } from '../config.js';
import { UserError, ValidationError } from '../errors.js';
import type { CredentialFields, CredentialInfo } from '../credentials/index.js';
import { currentSecret, parseClear, readNewSecret, readSecrets, secretPlaceholders, unlock, wantsSecrets, type SecretOptions } from './credential-input.js';
import { iso, parseId, parsePositiveInt, print, printTable } from './output.js';
import { withStore } from './store.js';

const credentials = () => import('../credentials/index.js');

interface MetaOptions {
  name?: string;
  description?: string;
  site?: string;
  type?: string;
  connection?: string;
  username?: string;
  becomeMethod?: string;
  becomeUsername?: string;
}

function addMetaOptions(cmd: Command, creating: boolean): Command {
  return cmd
    .option('--description <text>', 'what it is for')
    .option('--site <id|name>', creating ? 'the only site whose items may use it (default: every site)' : 'the site it belongs to ("none": every site)')
    .option('--type <type>', 'credential type: machine, domain, token')
    .option('--connection <type>', 'connection type: ssh, winrm, http, local')
    .option('--username <name>', 'user name (not a secret)')
    .option('--become-method <method>', 'privilege escalation: sudo, su, doas, runas')
    .option('--become-username <name>', 'user to become')
    .option('--password', 'read the password (prompt on a terminal, else stdin)')
    .option('--passphrase', "read the private key's passphrase (prompt or stdin)")
    .option('--become-password', 'read the become password (prompt or stdin)')
    .option('--private-key-file <path>', 'read the private key from this file')
    .option('--json', 'print JSON');
}

export function registerCredentialsCommand(program: Command): void {
  const cmd = program
    .command('credentials')
    .description('credentials for remote execution, encrypted at rest (AES-256-GCM, key from an unlock secret)')
    .addHelpText(
      'after',
      `
Secrets are read from a prompt that does not echo (on a terminal) or from stdin, never from the
command line. The unlock secret (the key is derived from it with scrypt) comes from:
  CREDENTIALS_KEY_FILE        a file holding it, mode 600
  CREDENTIALS_UNLOCK_COMMAND  a command printing it (JSON array or words; no shell)
  otherwise a prompt on the terminal.
The first unlock creates the keyring and encrypts any plaintext credentials.`,
    );

  addMetaOptions(cmd.command('add').description('add a credential').requiredOption('--name <name>', 'unique name'), true).action(
    async (options: MetaOptions & SecretOptions & { json?: boolean }) => {
      const fields = metaFields(options, true);
      await withStore(async (store) => {
        const c = await credentials();
        await c.checkCredentialInput(store, fields, secretPlaceholders(options), true);
        // Secrets are read (and checked) before the unlock: a first unlock writes the keyring.
        const secrets = await readSecrets(options);
        const key = wantsSecrets(options) ? await unlock(store) : undefined;
        const info = await c.addCredential(store, fields, secrets, { actor: cliActor(), ...(key ? { key } : {}) });
        print(options.json ? JSON.stringify(info) : `credential ${info.id} (${info.name}) added; secrets set: ${info.secrets_set.join(', ') || 'none'}`);
      });
    },
  );

  cmd
    .command('list')
    .description('list credentials (metadata and which secrets are set; never a secret)')
    .option('--site <id>', 'only credentials of this site')
    .option('--limit <n>', 'rows per page (50)')
    .option('--cursor <cursor>', 'the next_cursor of the previous page')
    .option('--json', 'print the page as JSON ({ items, next_cursor })')
    .action(async (options: { site?: string; limit?: string; cursor?: string; json?: boolean }) => {
      const query = {
        ...(options.site !== undefined ? { siteId: parseId(options.site, 'credentials list: --site (a site id)') } : {}),
        ...(options.limit !== undefined ? { limit: parsePositiveInt(options.limit, 'credentials list: --limit', 1000) } : {}),
        ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
      };
      await withStore(async (store) => {
        const page = await (await credentials()).listCredentials(store.db, query);
        if (options.json) return print(JSON.stringify(page));
        if (page.items.length === 0) return print('no credentials');
        printTable(
          ['id', 'name', 'type', 'connection', 'site', 'username', 'secrets set', 'updated'],
          page.items.map((c) => [c.id, c.name, c.credential_type, c.connection_type, siteLabel(c), c.username, c.secrets_set.join(',') || '-', iso(c.updated_at)]),
        );
        if (page.next_cursor) print(`more: --cursor ${page.next_cursor}`);
      });
    });

  cmd
    .command('show <id>')
    .description('show one credential (metadata and which secrets are set; never a secret)')
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parseId(idText, 'credentials show: id');
      await withStore(async (store) => {
        const info = await (await credentials()).showCredential(store.db, id);
        if (!info) throw new UserError(`credentials show: no credential with id ${id}`);
        if (options.json) return print(JSON.stringify(info));
        for (const [k, v] of Object.entries(describe(info))) print(`${k.padEnd(16)} ${v}`);
      });
    });

  addMetaOptions(cmd.command('update <id>').description('change a credential; only the options given change').option('--name <name>', 'new name'), false)
    .option('--clear <secrets>', 'comma-separated secrets to remove: password, private_key, private_key_passphrase, become_password')
    .action(async (idText: string, options: MetaOptions & SecretOptions & { clear?: string; json?: boolean }) => {
      const id = parseId(idText, 'credentials update: id');
      const fields = metaFields(options, false);
      const cleared = parseClear(options.clear);
      await withStore(async (store) => {
        const c = await credentials();
        await c.checkCredentialInput(store, fields, { ...secretPlaceholders(options), ...cleared }, false);
        if (!(await c.showCredential(store.db, id))) throw new UserError(`credentials update: no credential with id ${id}`);
        const secrets = { ...cleared, ...(await readSecrets(options)) };
        const key = wantsSecrets(options) ? await unlock(store) : undefined;
        const info = await c.updateCredential(store, id, fields, secrets, { actor: cliActor(), ...(key ? { key } : {}) });
        print(options.json ? JSON.stringify(info) : `credential ${info.id} (${info.name}) updated; secrets set: ${info.secrets_set.join(', ') || 'none'}`);
      });
    });

  cmd
    .command('remove <id>')
    .description('delete a credential (refused while jobs use it)')
    .action(async (idText: string) => {
      const id = parseId(idText, 'credentials remove: id');
      await withStore(async (store) => {
        await (await credentials()).removeCredential(store, id, { actor: cliActor() });
        print(`credential ${id} removed`);
      });
    });

  cmd
    .command('rotate-key')
    .description('re-encrypt every credential under a key from a new unlock secret, in one transaction')
    .option('--new-key-file <path>', 'read the new secret from this file (mode 600); else a prompt (twice) or stdin')
    .action(async (options: { newKeyFile?: string }) => {
      await withStore(async (store) => {
        const c = await credentials();
        if (!(await c.readKeyring(store.db))) throw new UserError('credentials rotate-key: no keyring yet; the first unlock creates it (jobyard credentials status --check)');
        const oldSecret = await currentSecret();
        const newSecret = await readNewSecret(options.newKeyFile);
        if (newSecret === oldSecret) throw new ValidationError(['new secret: is the same as the current one']);
        const { credentials: n } = await c.rotateKey(store, oldSecret, newSecret, { actor: cliActor() });
        print(`re-encrypted ${n} credential(s) under the new key; point CREDENTIALS_KEY_FILE (or the unlock command) at the new secret and restart the scheduler`);
      });
    });

  cmd
    .command('status')
    .description('the keyring (KDF, since when), credentials and unencrypted values; --check also unlocks')
    .option('--check', 'unlock with the configured secret or a prompt (a first unlock creates the keyring and encrypts plaintext)')
    .option('--json', 'print JSON')
    .action(async (options: { check?: boolean; json?: boolean }) => {
      await withStore(async (store) => {
        const c = await credentials();
        let unlocked: string | undefined;
        if (options.check) {
          const result = await c.unlockCredentials(store, await currentSecret(), { actor: cliActor() });
          unlocked = result.initialised ? `ok (keyring created; ${result.migrated} plaintext credential(s) encrypted)` : `ok${result.migrated ? ` (${result.migrated} plaintext credential(s) encrypted)` : ''}`;
        }
        const keyring = await c.readKeyring(store.db);
        const total = await store.db.selectFrom('credentials').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        const status = {
          keyring: keyring ? { kdf: keyring.kdfName, N: keyring.params.N, r: keyring.params.r, p: keyring.params.p, created_at: keyring.createdAt, rotated_at: keyring.updatedAt } : null,
          credentials: Number(total.n),
          unencrypted_credentials: await c.countPlaintext(store.db),
          unlock_source: sourceLabel(),
          ...(unlocked ? { unlock: unlocked } : {}),
        };
        if (options.json) return print(JSON.stringify(status));
        print(`keyring           ${keyring ? `scrypt N=${keyring.params.N} r=${keyring.params.r} p=${keyring.params.p}; created ${iso(keyring.createdAt)}; last changed ${iso(keyring.updatedAt)}` : 'not created yet (the first unlock creates it)'}`);
        print(`credentials       ${status.credentials}`);
        print(`unencrypted       ${status.unencrypted_credentials}${status.unencrypted_credentials > 0 ? ' (an unlock encrypts them)' : ''}`);
        print(`unlock source     ${status.unlock_source}`);
        if (unlocked) print(`unlock            ${unlocked}`);
      });
    });
}

function sourceLabel(): string {
  const config = loadConfig();
  if (config.CREDENTIALS_KEY_FILE) return `CREDENTIALS_KEY_FILE (${config.CREDENTIALS_KEY_FILE})`;
  if (config.CREDENTIALS_UNLOCK_COMMAND) return `CREDENTIALS_UNLOCK_COMMAND (${config.CREDENTIALS_UNLOCK_COMMAND[0]})`;
  return 'none (a prompt on a terminal; the scheduler stays locked)';
}

function metaFields(options: MetaOptions, creating: boolean): CredentialFields {
  const fields: CredentialFields = {};
  if (options.name !== undefined) fields.name = options.name;
  if (options.description !== undefined) fields.description = options.description;
  if (options.site !== undefined) fields.site = !creating && options.site === 'none' ? null : options.site;
  if (options.type !== undefined) fields.credential_type = options.type;
  if (options.connection !== undefined) fields.connection_type = options.connection;
  if (options.username !== undefined) fields.username = options.username;
  if (options.becomeMethod !== undefined) fields.become_method = options.becomeMethod;
  if (options.becomeUsername !== undefined) fields.become_username = options.becomeUsername;
  return fields;
}

function siteLabel(c: CredentialInfo): string {
  return c.site_id === null ? 'all' : `${c.site_id}${c.site_name ? ` (${c.site_name})` : ''}`;
}

function describe(c: CredentialInfo): Record<string, string> {
  return {
    id: String(c.id),
    name: c.name,
    description: c.description ?? '-',
    site: siteLabel(c),
    type: c.credential_type ?? '-',
    connection: c.connection_type ?? '-',
    username: c.username ?? '-',
    'become method': c.become_method ?? '-',
    'become username': c.become_username ?? '-',
    'secrets set': c.secrets_set.join(', ') || 'none',
    created: iso(c.created_at),
    updated: iso(c.updated_at),
  };
}
