import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger. JSON lines by default; `LOG_LEVEL` sets the level.
 * Libraries take a logger as a parameter so tests can pass a silent one.
 */
export function createLogger(options: { name?: string; level?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'jobyard',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    // Defence in depth: a field with one of these names is never written out.
    redact: {
      paths: ['password', '*.password', 'secret', '*.secret', 'token', '*.token', 'databaseUrl'],
      censor: '***',
    },
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
