import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import { SECRET_LOG_FIELDS } from './secrets.js';

export type { Logger };

/**
 * The process logger: JSON lines, or human-readable lines when stdout is a terminal or
 * LOG_PRETTY=1 (LOG_PRETTY=0 forces JSON). `LOG_LEVEL` sets the level. Libraries take a logger
 * as a parameter so tests can pass a silent one; `destination` takes the JSON lines instead of
 * stdout.
 */
export function createLogger(options: { name?: string; level?: string; pretty?: boolean; destination?: DestinationStream } = {}): Logger {
  const pretty = options.pretty ?? prettyFromEnv(process.env.LOG_PRETTY, process.stdout.isTTY === true);
  const settings = {
    name: options.name ?? 'jobyard',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    // Defence in depth: a field named by a secret word (src/secrets.ts), at the top level or one
    // level down, is never written out. Messages and errors carry masked URLs (maskUrl) and
    // sanitized snippets in the first place.
    redact: { paths: SECRET_LOG_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: '***' },
  };
  if (options.destination) return pino(settings, options.destination);
  return pretty ? pino(settings, prettyStream()) : pino(settings);
}

/** LOG_PRETTY=1/true/yes/on → pretty, 0/false/no/off → JSON, unset → pretty on a terminal. */
export function prettyFromEnv(value: string | undefined, isTty: boolean): boolean {
  if (value === undefined || value === '') return isTty;
  return /^(1|true|yes|on)$/i.test(value);
}

/** pino-pretty in this thread (not a transport worker), loaded only when asked for. */
function prettyStream(): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
  return pretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

export const silentLogger: Logger = pino({ level: 'silent' });
