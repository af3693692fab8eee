/**
 * Spare site workers (process launcher, WORKER_SPARES): a worker process started before any site
 * needs it, which loads its modules and then waits on stdin for its assignment: the `jobyard
 * worker` arguments, the environment the launcher would have given it, and its secrets, as one
 * JSON object. From then on it is an ordinary site worker. A site's first item then waits for the
 * assignment, the database connection and the registration, not for node and the worker's
 * modules to load (most of a worker's start). A spare holds no site, lease, row or connection.
 */
import type { Readable } from 'node:stream';
import { handOverWorkerSecrets, isStringRecord, readToEnd, WORKER_SECRETS_VAR } from './worker-secrets.js';

/** Set to `stdin` by the process launcher for a spare. */
export const WORKER_SPARE_VAR = 'WORKER_SPARE';

export interface SpareAssignment {
  /** What follows `jobyard worker`: `--site 3`, `--lanes …`. */
  args: string[];
  /** The environment the worker would have been started with (no secrets). */
  env: Record<string, string>;
  secrets: Record<string, string>;
}

/** The spare's wait: its assignment, or null when stdin closes empty (the launcher stopped it unused). */
export async function waitForAssignment(input: Readable): Promise<SpareAssignment | null> {
  const text = await readToEnd(input);
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${WORKER_SPARE_VAR}=stdin but stdin is not a JSON object`);
  }
  const a = value as Partial<SpareAssignment> | null;
  const args = a?.args;
  if (!Array.isArray(args) || !args.every((x) => typeof x === 'string') || !isStringRecord(a?.env) || !isStringRecord(a?.secrets)) {
    throw new Error(`${WORKER_SPARE_VAR}=stdin but stdin is not an assignment (args: strings, env and secrets: objects of strings)`);
  }
  return { args, env: a.env, secrets: a.secrets };
}

/** Becomes the assigned worker: its environment, and its secrets for the worker command to take. */
export function applyAssignment(assignment: SpareAssignment): void {
  Object.assign(process.env, assignment.env);
  delete process.env[WORKER_SPARE_VAR];
  process.env[WORKER_SECRETS_VAR] = 'stdin';
  handOverWorkerSecrets(assignment.secrets);
}

/** The assignment a launcher writes for `args`, `env` and `secrets`. */
export function assignmentJson(args: readonly string[], env: Record<string, string>, secrets: Record<string, string>): string {
  const assignment: SpareAssignment = { args: [...args], env, secrets };
  return JSON.stringify(assignment);
}
