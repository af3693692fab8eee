/**
 * Where the operator's unlock secret comes from:
 * - CREDENTIALS_KEY_FILE: a file holding it (one trailing newline ignored); refused when group or
 *   others may read it, since then it is not the operator's secret any more;
 * - CREDENTIALS_UNLOCK_COMMAND: a command whose stdout is the secret (a password manager, a vault
 *   CLI), run without a shell; nothing secret is put on its argv or in its environment;
 * - on a terminal (CLI only), a prompt that does not echo.
 * The secret is only ever passed to the key derivation; it is not logged nor kept.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';

export interface UnlockSettings {
  CREDENTIALS_KEY_FILE?: string | undefined;
  /** argv: parsed from a JSON array of strings or split on whitespace (config.ts). */
  CREDENTIALS_UNLOCK_COMMAND?: readonly string[] | undefined;
}

export type UnlockSourceKind = 'key-file' | 'command' | 'none';

export function unlockSourceKind(settings: UnlockSettings): UnlockSourceKind {
  if (settings.CREDENTIALS_KEY_FILE) return 'key-file';
  if (settings.CREDENTIALS_UNLOCK_COMMAND) return 'command';
  return 'none';
}

/** The unlock secret from the configured source, or undefined when none is configured. */
export async function readConfiguredSecret(settings: UnlockSettings): Promise<string | undefined> {
  if (settings.CREDENTIALS_KEY_FILE) return readKeyFile(settings.CREDENTIALS_KEY_FILE);
  if (settings.CREDENTIALS_UNLOCK_COMMAND) return runUnlockCommand(settings.CREDENTIALS_UNLOCK_COMMAND);
  return undefined;
}

export function readKeyFile(path: string): string {
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UserError(`CREDENTIALS_KEY_FILE: ${path} is not a file`);
    mode = st.mode;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`CREDENTIALS_KEY_FILE: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new UserError(`CREDENTIALS_KEY_FILE: ${path} is readable or writable by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${path}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`CREDENTIALS_KEY_FILE: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const secret = stripNewline(text);
  if (secret === '') throw new UserError(`CREDENTIALS_KEY_FILE: ${path} is empty`);
  return secret;
}

/** The command's environment: ours without jobyard's own secrets (database URL, tokens). */
function commandEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    // Its own credentials (e.g. VAULT_TOKEN) it may need; jobyard's it does not.
    if (/^(DATABASE_URL|HTTP_TOKEN|TEST_POSTGRES_URL|PGPASSWORD|CREDENTIALS_.*|JOBYARD_.*|WORKER_SECRETS)$/.test(name)) continue;
    env[name] = value;
  }
  return env;
}

export function runUnlockCommand(argv: readonly string[], timeoutMs = 30_000): Promise<string> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(file!, args, { shell: false, timeout: timeoutMs, env: commandEnvironment(), maxBuffer: 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        const why = e.killed ? `no answer within ${timeoutMs} ms` : typeof e.code === 'number' ? `exited with code ${e.code}` : `could not run (${e.code ?? e.message})`;
        const detail = stderr.trim().split('\n').pop()?.slice(0, 200);
        reject(new UserError(`CREDENTIALS_UNLOCK_COMMAND: ${file} ${why}${detail ? `: ${detail}` : ''}`));
        return;
      }
      const secret = stripNewline(stdout);
      if (secret === '') reject(new UserError(`CREDENTIALS_UNLOCK_COMMAND: ${file} printed nothing`));
      else resolve(secret);
    });
  });
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/**
 * Asks on the terminal without echo (stderr for the question, the TTY on stdin for the answer).
 * Undefined when stdin is not a terminal.
 */
export async function promptHidden(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string | undefined> {
  if (!input.isTTY) return undefined;
  output.write(question);
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  input.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let answer = '';
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            input.off('data', onData);
            output.write('\n');
            resolve(answer);
            return;
          }
          if (ch === '\u0003') {
            input.off('data', onData);
            output.write('\n');
            reject(new UserError('interrupted', 130));
            return;
          }
          if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
          else answer += ch;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(wasRaw);
    input.pause();
  }
}
