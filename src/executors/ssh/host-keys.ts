/**
 * SSH host-key pinning (owner of `ssh_host_keys`): trust on first use, never replaced silently.
 *
 * - First contact: the key the host presents is pinned (insert-if-absent, so two workers racing
 *   to pin agree on whichever row won) and the connection goes on.
 * - Later contacts: the presented key must equal the pinned blob byte for byte; anything else is
 *   "host key changed" and the connection is refused before authentication (no credential is
 *   ever sent to a host that fails the check).
 * - The pinned key type is also the only host-key algorithm offered on later contacts, so a host
 *   with several keys always presents the pinned one (ssh2 would otherwise pick its favourite).
 * - Re-pinning is an operator action (`jobyard devices host-key repin`): the pin is removed,
 *   audited, and the next contact pins again.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { recordAudit, type Actor } from '../../audit/audit-log.js';
import type { Store } from '../../db/open.js';
import type { Database } from '../../db/schema.js';
import type { SshHostKeysTable } from '../../db/schema-operator.js';
import { NotFoundError } from '../../errors.js';

export type HostKeyRow = SshHostKeysTable;

/** Subject of an inventory device's pin. */
export const deviceSubject = (guid: string): string => `device:${guid}`;
/** Subject of an address reached before it is a device (onboarding). */
export const addressSubject = (host: string, port: number): string => `address:${host}:${port}`;

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it. Pure. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name at the start of an SSH public-key blob (`ssh-ed25519`, …). Pure. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > blob.length) return 'unknown';
  return blob.subarray(4, 4 + len).toString('latin1');
}

export interface HostKeyCheck {
  ok: boolean;
  /** True when this contact pinned the key. */
  pinned: boolean;
  fingerprint: string;
  /** Why the key was refused. */
  reason?: string;
}

export async function loadPin(db: Kysely<Database>, subject: string): Promise<HostKeyRow | undefined> {
  return db.selectFrom('ssh_host_keys').selectAll().where('subject', '=', subject).executeTakeFirst();
}

/** Checks (and on first contact pins) the key a host presented. */
export async function checkHostKey(
  store: Store,
  subject: string,
  presented: Buffer,
  meta: { hostname: string | null; address: string },
  now: number,
): Promise<HostKeyCheck> {
  const fingerprint = fingerprintOf(presented);
  const blob = presented.toString('base64');
  let pin = await loadPin(store.db, subject);
  let pinned = false;
  if (!pin) {
    const inserted = await store.db
      .insertInto('ssh_host_keys')
      .values({ subject, hostname: meta.hostname, address: meta.address, key_type: keyTypeOf(presented), public_key: blob, fingerprint, pinned_at: now, last_seen_at: now })
      .onConflict((oc) => oc.column('subject').doNothing())
      .executeTakeFirst();
    pinned = Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
    pin = await loadPin(store.db, subject);
    if (!pin) return { ok: false, pinned: false, fingerprint, reason: 'host key could not be pinned' };
  }
  if (pin.public_key !== blob) {
    return {
      ok: false,
      pinned: false,
      fingerprint,
      reason: `host key changed: pinned ${pin.key_type} ${pin.fingerprint}, host presented ${keyTypeOf(presented)} ${fingerprint} (re-pin with: jobyard devices host-key repin ${pin.hostname ?? subject.replace(/^address:/, '--address ')})`,
    };
  }
  if (!pinned) await store.db.updateTable('ssh_host_keys').set({ last_seen_at: now }).where('subject', '=', subject).execute();
  return { ok: true, pinned, fingerprint };
}

/** The pins of a device (by guid), for `devices host-key show` and `devices show`. */
export async function hostKeysOfDevice(store: Store, guid: string): Promise<HostKeyRow[]> {
  return store.db.selectFrom('ssh_host_keys').selectAll().where('subject', '=', deviceSubject(guid)).execute();
}

/**
 * Removes a device's pin (the next contact pins the key it then sees), with its audit row in the
 * same transaction. NotFoundError when nothing is pinned.
 */
export async function repinHostKey(store: Store, device: { guid: string; hostname: string }, actor: Actor, now = Date.now()): Promise<HostKeyRow> {
  return removePin(store, deviceSubject(device.guid), { objectType: 'device', objectId: device.hostname, what: `device ${device.hostname}` }, actor, now);
}

/** The same for an address pinned before it was a device (onboarding): `host[:port]`, port 22 by default. */
export async function repinAddressHostKey(store: Store, host: string, port: number, actor: Actor, now = Date.now()): Promise<HostKeyRow> {
  const subject = addressSubject(host, port);
  return removePin(store, subject, { objectType: 'ssh_address', objectId: `${host}:${port}`, what: `address ${host}:${port}` }, actor, now);
}

async function removePin(store: Store, subject: string, label: { objectType: string; objectId: string; what: string }, actor: Actor, now: number): Promise<HostKeyRow> {
  return store.db.transaction().execute(async (trx) => {
    const pin = await loadPin(trx, subject);
    if (!pin) throw new NotFoundError(`${label.what}: no SSH host key is pinned (the next contact pins one)`);
    await trx.deleteFrom('ssh_host_keys').where('subject', '=', pin.subject).execute();
    await recordAudit(trx, {
      actor,
      action: `${label.objectType}.host_key_repin`,
      objectType: label.objectType,
      objectId: label.objectId,
      summary: { removed_fingerprint: pin.fingerprint, key_type: pin.key_type, pinned_at: pin.pinned_at },
      at: now,
    });
    return pin;
  });
}
