/**
 * Docker Engine API errors as one readable line, shared by the site-worker launcher
 * (src/fleet/docker-launcher.ts) and service actions and snapshots (src/services).
 */

/** An engine error: what was attempted, the engine's own message and its HTTP status when known. */
export class DockerEngineError extends Error {
  readonly statusCode: number | undefined;

  constructor(message: string, options: { cause?: unknown; statusCode?: number | undefined } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DockerEngineError';
    this.statusCode = options.statusCode;
  }
}

/** The engine's HTTP status carried by a dockerode error, if any. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine's own message, without dockerode's "(HTTP code N) reason - " prefix. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: unknown } | null)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message.trim();
  }
  if (err instanceof Error) return err.message.trim() || err.name;
  return String(err);
}

/** `docker: cannot <action>: <engine message> (HTTP n)`, keeping the original as its cause. */
export function wrapEngineError(action: string, err: unknown): DockerEngineError {
  const status = statusOf(err);
  return new DockerEngineError(`docker: cannot ${action}: ${engineMessage(err)}${status ? ` (HTTP ${status})` : ''}`, {
    cause: err,
    statusCode: status,
  });
}

/** A container's name as the CLI shows it (no leading slash), or its short id. */
export function containerName(info: { Names?: string[]; Id: string }): string {
  return (info.Names?.[0] ?? info.Id.slice(0, 12)).replace(/^\//, '');
}
