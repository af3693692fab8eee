/**
 * The `credentials` rows an operator manages: add, update, remove, list, show, and the metadata
 * lookup other modules use (findCredentials). Secrets go in sealed (jy:v1 envelopes, bound to
 * the row and column) and never come out of here: every read returns metadata and the names of
 * the secrets that are set. Each write is one transaction with its audit row, whose summary names
 * the fields that changed, never a value. Input is validated in full before any write.
 */
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import type { Store } from '../db/open.js';
import type { CredentialsTable, Database } from '../db/schema.js';
import { ConflictError, NotFoundError, UserError, ValidationError } from '../errors.js';
import { findSiteById, findSiteByName } from '../inventory/sites.js';
import { decodeCursor, isIdKey, pageLimit, toPage, type Page } from '../pagination.js';
import type { CredentialKey } from './envelope.js';
import { lockCurrentKey } from './keyring.js';
import { cellText, columnOf, sealCell, SECRET_COLUMNS, SECRET_NAMES, type SecretName } from './secret-columns.js';

export const CREDENTIAL_TYPES = ['machine', 'domain', 'token'] as const;
export const CONNECTION_TYPES = ['ssh', 'winrm', 'http', 'local'] as const;
export const BECOME_METHODS = ['sudo', 'su', 'doas', 'runas'] as const;
const MAX_NAME = 200;
const MAX_TEXT = 2000;
const MAX_SECRET = 64 * 1024;

/** What list/show return: never a secret, only which ones are set. */
export interface CredentialInfo {
  id: number;
  name: string;
  description: string | null;
  site_id: number | null;
  site_name: string | null;
  credential_type: string | null;
  connection_type: string | null;
  username: string | null;
  become_method: string | null;
  become_username: string | null;
  secrets_set: SecretName[];
  created_at: number;
  updated_at: number;
}

/** Metadata fields; `undefined` leaves a field as it is, `null` clears it (update). */
export interface CredentialFields {
  name?: string;
  description?: string | null;
  /** A site id or name; null for a credential every site may use. */
  site?: number | string | null;
  credential_type?: string | null;
  connection_type?: string | null;
  username?: string | null;
  become_method?: string | null;
  become_username?: string | null;
}

/** Secret values; `null` clears one (update). */
export type CredentialSecrets = Partial<Record<SecretName, string | null>>;

const META_FIELDS = ['name', 'description', 'credential_type', 'connection_type', 'username', 'become_method', 'become_username'] as const;

function validate(fields: CredentialFields, secrets: CredentialSecrets, creating: boolean): string[] {
  const problems: string[] = [];
  const text = (field: string, value: unknown, max: number) => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string' || value.trim() === '' || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
      problems.push(`${field}: expected text of 1 to ${max} characters without control characters`);
    }
  };
  const oneOf = (field: string, value: unknown, accepted: readonly string[]) => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string' || !accepted.includes(value)) problems.push(`${field}: expected one of ${accepted.join(', ')}, got ${JSON.stringify(value)}`);
  };
  if (creating && (fields.name === undefined || fields.name === null)) problems.push('name: required (text of 1 to 200 characters)');
  if (!creating && fields.name === null) problems.push('name: cannot be cleared');
  text('name', fields.name, MAX_NAME);
  text('description', fields.description, MAX_TEXT);
  text('username', fields.username, MAX_NAME);
  text('become_username', fields.become_username, MAX_NAME);
  oneOf('credential_type', fields.credential_type, CREDENTIAL_TYPES);
  oneOf('connection_type', fields.connection_type, CONNECTION_TYPES);
  oneOf('become_method', fields.become_method, BECOME_METHODS);
  if (fields.site !== undefined && fields.site !== null) {
    const ok = typeof fields.site === 'string' ? fields.site.trim() !== '' : Number.isSafeInteger(fields.site) && fields.site > 0;
    if (!ok) problems.push('site: expected a site id or name, or none');
  }
  for (const [name, value] of Object.entries(secrets)) {
    if (!(SECRET_NAMES as readonly string[]).includes(name)) problems.push(`${name}: not a secret field; expected one of ${SECRET_NAMES.join(', ')}`);
    else if (value !== null && value !== undefined && (typeof value !== 'string' || value === '' || value.length > MAX_SECRET)) {
      problems.push(`${name}: expected a non-empty value of at most ${MAX_SECRET} characters`);
    }
  }
  return problems;
}

/** A site id or name → its id; a ValidationError naming `site` when there is none. */
async function resolveSite(store: Store, site: number | string | null | undefined): Promise<number | null | undefined> {
  if (site === undefined || site === null) return site;
  const found = typeof site === 'number' || /^\d+$/.test(site) ? await findSiteById(store, Number(site)) : await findSiteByName(store, site);
  if (!found) throw new ValidationError([`site: no site ${typeof site === 'number' || /^\d+$/.test(site) ? 'with id ' : 'named '}${JSON.stringify(site)}`]);
  return found.id;
}

/**
 * Everything about an add or update that can be checked without writing (fields, secrets, the
 * site), so a caller can report bad input before it unlocks (a first unlock writes the keyring).
 */
export async function checkCredentialInput(store: Store, fields: CredentialFields, secrets: CredentialSecrets, creating: boolean): Promise<void> {
  const problems = validate(fields, secrets, creating);
  if (problems.length > 0) throw new ValidationError(problems);
  await resolveSite(store, fields.site);
}

export function needsKey(secrets: CredentialSecrets): boolean {
  return Object.values(secrets).some((v) => typeof v === 'string');
}

function requireKey(key: CredentialKey | undefined, secrets: CredentialSecrets): CredentialKey | undefined {
  if (needsKey(secrets) && !key) throw new UserError('credentials locked: unlock to store a secret (CREDENTIALS_KEY_FILE, CREDENTIALS_UNLOCK_COMMAND or a terminal prompt)');
  return key;
}

function sealedSecrets(key: CredentialKey | undefined, id: number, secrets: CredentialSecrets): Record<string, Buffer | null> {
  const set: Record<string, Buffer | null> = {};
  for (const [name, value] of Object.entries(secrets) as Array<[SecretName, string | null | undefined]>) {
    if (value === undefined) continue;
    set[columnOf(name)] = value === null ? null : sealCell(key!, id, columnOf(name), value);
  }
  return set;
}

async function nameTaken(trx: Kysely<Database>, name: string, exceptId?: number): Promise<boolean> {
  let q = trx.selectFrom('credentials').select('id').where('name', '=', name);
  if (exceptId !== undefined) q = q.where('id', '<>', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

export interface WriteContext {
  actor: Actor;
  /** Needed when a secret is set; the derived key, checked against the keyring in the transaction. */
  key?: CredentialKey;
  now?: number;
}

export async function addCredential(store: Store, fields: CredentialFields, secrets: CredentialSecrets, ctx: WriteContext): Promise<CredentialInfo> {
  const problems = validate(fields, secrets, true);
  if (problems.length > 0) throw new ValidationError(problems);
  const key = requireKey(ctx.key, secrets);
  const siteId = await resolveSite(store, fields.site);
  const now = ctx.now ?? Date.now();
  const id = await store.db.transaction().execute(async (trx) => {
    if (key) await lockCurrentKey(trx, key);
    if (await nameTaken(trx, fields.name!)) throw new ConflictError(`name: a credential named ${JSON.stringify(fields.name)} already exists`);
    const row = await trx
      .insertInto('credentials')
      .values({ ...metaValues(fields), name: fields.name!, site_id: siteId ?? null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sealed = sealedSecrets(key, row.id, secrets);
    if (Object.keys(sealed).length > 0) await trx.updateTable('credentials').set(sealed).where('id', '=', row.id).execute();
    await recordAudit(trx, {
      actor: ctx.actor,
      action: 'credential.create',
      objectType: 'credential',
      objectId: row.id,
      summary: { name: fields.name, site_id: siteId ?? null, fields: changedNames(fields, secrets) },
      at: now,
    });
    return row.id;
  });
  return (await showCredential(store.db, id))!;
}

export async function updateCredential(store: Store, id: number, fields: CredentialFields, secrets: CredentialSecrets, ctx: WriteContext): Promise<CredentialInfo> {
  const problems = validate(fields, secrets, false);
  if (problems.length > 0) throw new ValidationError(problems);
  const changed = changedNames(fields, secrets);
  if (changed.length === 0) throw new ValidationError(['update: nothing to change; give at least one field or secret']);
  const key = requireKey(ctx.key, secrets);
  const siteId = await resolveSite(store, fields.site);
  const now = ctx.now ?? Date.now();
  await store.db.transaction().execute(async (trx) => {
    if (key) await lockCurrentKey(trx, key);
    const current = await trx.selectFrom('credentials').select('id').where('id', '=', id).executeTakeFirst();
    if (!current) throw new NotFoundError(`credential ${id}: not found`);
    if (fields.name !== undefined && (await nameTaken(trx, fields.name!, id))) throw new ConflictError(`name: a credential named ${JSON.stringify(fields.name)} already exists`);
    await trx
      .updateTable('credentials')
      .set({ ...metaValues(fields), ...(siteId !== undefined ? { site_id: siteId } : {}), ...sealedSecrets(key, id, secrets), updated_at: now })
      .where('id', '=', id)
      .execute();
    await recordAudit(trx, { actor: ctx.actor, action: 'credential.update', objectType: 'credential', objectId: id, summary: { fields: changed }, at: now });
  });
  return (await showCredential(store.db, id))!;
}

/** Refused while jobs reference the credential (they would fail at run time), with the count. */
export async function removeCredential(store: Store, id: number, ctx: { actor: Actor; now?: number }): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('credentials').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError(`credential ${id}: not found`);
    const jobs = await trx.selectFrom('scheduled_jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('credential_id', '=', id).executeTakeFirstOrThrow();
    if (Number(jobs.n) > 0) throw new ConflictError(`credential ${id} (${row.name}) is used by ${Number(jobs.n)} job(s); change or delete them first`);
    await trx.deleteFrom('credentials').where('id', '=', id).execute();
    await recordAudit(trx, { actor: ctx.actor, action: 'credential.delete', objectType: 'credential', objectId: id, summary: { name: row.name }, ...(ctx.now !== undefined ? { at: ctx.now } : {}) });
  });
}

function metaValues(fields: CredentialFields): Omit<Updateable<CredentialsTable>, 'name'> & { name?: string } {
  const out: Record<string, string | null> = {};
  for (const f of META_FIELDS) if (fields[f] !== undefined) out[f] = fields[f] ?? null;
  return out;
}

/** Field names a write touches (metadata and secrets): the audit summary, never a value. */
function changedNames(fields: CredentialFields, secrets: CredentialSecrets): string[] {
  return [
    ...[...META_FIELDS, 'site' as const].filter((f) => fields[f] !== undefined),
    ...SECRET_NAMES.filter((n) => secrets[n] !== undefined).map((n) => (secrets[n] === null ? `${n} (cleared)` : n)),
  ];
}

const INFO_COLUMNS = [
  'credentials.id',
  'credentials.name',
  'credentials.description',
  'credentials.site_id',
  'sites.name as site_name',
  'credentials.credential_type',
  'credentials.connection_type',
  'credentials.username',
  'credentials.become_method',
  'credentials.become_username',
  'credentials.created_at',
  'credentials.updated_at',
  ...SECRET_COLUMNS.map(([column]) => `credentials.${column}` as const),
] as const;

function infoQuery(db: Kysely<Database> | Transaction<Database>) {
  return db.selectFrom('credentials').leftJoin('sites', 'sites.id', 'credentials.site_id').select(INFO_COLUMNS);
}

type InfoRow = Pick<Selectable<CredentialsTable>, 'id' | 'name' | 'description' | 'site_id' | 'credential_type' | 'connection_type' | 'username' | 'become_method' | 'become_username' | 'created_at' | 'updated_at' | (typeof SECRET_COLUMNS)[number][0]> & { site_name: string | null };

function toInfo(row: InfoRow): CredentialInfo {
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    site_id: row.site_id,
    site_name: row.site_name,
    credential_type: row.credential_type,
    connection_type: row.connection_type,
    username: row.username,
    become_method: row.become_method,
    become_username: row.become_username,
    secrets_set: SECRET_COLUMNS.filter(([column]) => cellText(row[column]) !== null).map(([, name]) => name),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

export async function showCredential(db: Kysely<Database>, id: number): Promise<CredentialInfo | undefined> {
  const row = await infoQuery(db).where('credentials.id', '=', id).executeTakeFirst();
  return row ? toInfo(row as InfoRow) : undefined;
}

export async function listCredentials(db: Kysely<Database>, query: { limit?: number; cursor?: string; siteId?: number } = {}): Promise<Page<CredentialInfo>> {
  const limit = pageLimit(query.limit);
  let q = infoQuery(db).orderBy('credentials.id').limit(limit + 1);
  if (query.cursor !== undefined) q = q.where('credentials.id', '>', decodeCursor(query.cursor, isIdKey));
  if (query.siteId !== undefined) q = q.where('credentials.site_id', '=', query.siteId);
  const page = toPage((await q.execute()) as InfoRow[], limit, (r) => Number(r.id));
  return { items: page.items.map(toInfo), next_cursor: page.next_cursor };
}

/**
 * Metadata of the credentials with these ids (existence, site, type; no secrets), for other
 * modules' reference checks (jobs). Ids that do not exist are absent from the map.
 */
export async function findCredentials(db: Kysely<Database>, ids: readonly number[]): Promise<Map<number, CredentialInfo>> {
  const wanted = [...new Set(ids)].filter((id) => Number.isSafeInteger(id) && id > 0);
  if (wanted.length === 0) return new Map();
  const rows = (await infoQuery(db).where('credentials.id', 'in', wanted).execute()) as InfoRow[];
  return new Map(rows.map((r) => [Number(r.id), toInfo(r)]));
}
