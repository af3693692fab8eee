/**
 * One SSH connection to one target (ssh2), opened once per target and occurrence and reused by
 * every component run on it. Failures come back as a value with a kind and one clear line:
 *
 *   unreachable      TCP could not connect (refused, no route, link down, DNS)
 *   timed_out        no completed handshake and authentication within connectTimeoutMs
 *   host_key_changed the presented key differs from the pinned one (nothing was sent)
 *   auth_failed      the server refused the credential, or the private key could not be read
 *   error            anything else (protocol, algorithm negotiation)
 *
 * Keepalives (15 s × 3) notice a peer that vanished; Nagle is off, which takes a reused
 * connection's exec from ~48 ms to a few ms (measured).
 */
import type { Client as SshClient, ConnectConfig } from 'ssh2';
import type { Store } from '../../db/open.js';
import { checkHostKey, loadPin } from './host-keys.js';

/**
 * ssh2 is loaded on the first connection, not with the worker: it costs a site worker a sixth of
 * its boot and ~15 MB (its Poly1305 WebAssembly memory) though most sites never run an SSH job.
 */
let ssh2Client: Promise<typeof SshClient> | undefined;
const loadSshClient = () => (ssh2Client ??= import('ssh2').then((m) => m.default.Client));

export type ConnectFailureKind = 'unreachable' | 'timed_out' | 'host_key_changed' | 'auth_failed' | 'error' | 'aborted';

export interface SshEndpoint {
  host: string;
  port: number;
  /** Host-key pin subject (host-keys.ts). */
  subject: string;
  hostname: string | null;
}

export interface SshAuth {
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

export interface ConnectOptions {
  store: Store;
  connectTimeoutMs: number;
  keepaliveIntervalMs?: number;
  signal?: AbortSignal;
  now: () => number;
}

export type ConnectResult =
  | { ok: true; client: SshClient; fingerprint: string; pinned: boolean }
  | { ok: false; kind: ConnectFailureKind; reason: string };

export async function openSsh(endpoint: SshEndpoint, auth: SshAuth, options: ConnectOptions): Promise<ConnectResult> {
  if (options.signal?.aborted) return { ok: false, kind: 'aborted', reason: 'cancelled before connecting' };
  const where = `${endpoint.host}:${endpoint.port}`;
  // Offer only the pinned key's algorithm, so a host with several keys presents the pinned one.
  const [pin, Client] = await Promise.all([loadPin(options.store.db, endpoint.subject), loadSshClient()]);
  if (options.signal?.aborted) return { ok: false, kind: 'aborted', reason: 'cancelled before connecting' };
  return new Promise<ConnectResult>((resolve) => {
    const client = new Client();
    let settled = false;
    let keyRefusal: string | undefined;
    let hostKey: { fingerprint: string; pinned: boolean } | undefined;
    const finish = (result: ConnectResult) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (!result.ok) client.end();
      resolve(result);
    };
    const onAbort = () => {
      finish({ ok: false, kind: 'aborted', reason: 'cancelled while connecting' });
      client.destroy();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    client.on('ready', () => {
      client.setNoDelay(true);
      finish({ ok: true, client, fingerprint: hostKey?.fingerprint ?? '', pinned: hostKey?.pinned ?? false });
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (!settled) return finish(classify(err, where, keyRefusal));
      // After ready, errors surface on the channel in use (its close); nothing to do here.
    });
    client.on('close', () => finish({ ok: false, kind: 'error', reason: `${where}: connection closed during the handshake` }));

    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: auth.username,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 3,
      tryKeyboard: false,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        checkHostKey(options.store, endpoint.subject, key, { hostname: endpoint.hostname, address: where }, options.now()).then(
          (check) => {
            hostKey = { fingerprint: check.fingerprint, pinned: check.pinned };
            if (!check.ok) keyRefusal = check.reason;
            verify(check.ok);
          },
          (err: unknown) => {
            keyRefusal = `host key could not be checked: ${err instanceof Error ? err.message : String(err)}`;
            verify(false);
          },
        );
      },
      ...(pin ? { algorithms: { serverHostKey: [pin.key_type as never] } } : {}),
      ...(auth.password !== undefined ? { password: auth.password } : {}),
      ...(auth.privateKey !== undefined ? { privateKey: auth.privateKey } : {}),
      ...(auth.passphrase !== undefined ? { passphrase: auth.passphrase } : {}),
    };
    try {
      client.connect(config);
    } catch (err) {
      // ssh2 parses the private key synchronously: a bad key or passphrase throws here.
      const message = err instanceof Error ? err.message : String(err);
      finish({ ok: false, kind: 'auth_failed', reason: `${where}: private key could not be used (${message})` });
    }
  });
}

function classify(err: Error & { level?: string; code?: string }, where: string, keyRefusal: string | undefined): ConnectResult & { ok: false } {
  if (keyRefusal) return { ok: false, kind: 'host_key_changed', reason: `${where}: ${keyRefusal}` };
  const level = err.level ?? '';
  if (level === 'client-authentication') return { ok: false, kind: 'auth_failed', reason: `${where}: authentication refused for the job's credential (${err.message})` };
  if (level === 'client-timeout') return { ok: false, kind: 'timed_out', reason: `${where}: unreachable: no SSH handshake within the connect timeout` };
  if (/connection lost before handshake/i.test(err.message)) return { ok: false, kind: 'unreachable', reason: `${where}: unreachable: connection lost before the SSH handshake` };
  if (level === 'client-socket' || err.code !== undefined) return { ok: false, kind: 'unreachable', reason: `${where}: unreachable: ${err.code ?? err.message}` };
  if (level === 'handshake' && /host key|no matching/i.test(err.message)) {
    // The pinned key type is no longer offered by the host: its keys were replaced.
    return { ok: false, kind: 'host_key_changed', reason: `${where}: host key changed: the host no longer offers the pinned key type (${err.message})` };
  }
  return { ok: false, kind: 'error', reason: `${where}: ${err.message}` };
}
