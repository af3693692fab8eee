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

/**
 * Bad input with one or more problems, each naming a field and what it accepts. The CLI prints
 * them joined on one line (exit 2); the HTTP API answers 400 with `problems` listing each one.
 */
export class ValidationError extends UserError {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** The named object does not exist. CLI: exit 2; HTTP: 404. */
export class NotFoundError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * The request is well-formed but conflicts with the current state (a duplicate name, a site still
 * referenced by work, a dedupe key in use). CLI: exit 2; HTTP: 409. Nothing was written.
 */
export class ConflictError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The same error with its message prefixed (`items retry: …`), keeping its class and problems. */
export function prefixError(err: unknown, prefix: string): unknown {
  if (err instanceof ValidationError) return new ValidationError(err.problems.map((p) => `${prefix}: ${p}`));
  if (err instanceof NotFoundError) return new NotFoundError(`${prefix}: ${err.message}`);
  if (err instanceof ConflictError) return new ConflictError(`${prefix}: ${err.message}`);
  if (err instanceof UserError) return new UserError(`${prefix}: ${err.message}`, err.exitCode);
  return err;
}
