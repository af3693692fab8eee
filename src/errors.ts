/**
 * An error caused by the operator's input or configuration (a bad URL, an invalid job
 * definition, an unknown migration). The CLI prints its message as one line and exits with
 * `exitCode` — no stack trace unless `--verbose`.
 */
export class UserError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A readable one-line description of anything thrown, including non-Error values. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  if (err === undefined) return 'undefined was thrown';
  if (err === null) return 'null was thrown';
  try {
    return `non-Error thrown: ${JSON.stringify(err)}`;
  } catch {
    return `non-Error thrown: ${String(err)}`;
  }
}
