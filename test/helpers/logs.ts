/** A real pino logger whose lines are kept, to check what reaches a log (and that no secret does). */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

export function capturingLogger(level: 'debug' | 'info' | 'trace' = 'debug'): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level, destination }), text: () => lines.join('') };
}
