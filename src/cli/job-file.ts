/** Reading a job definition file for `jobs create` and `jobs update`. */
import { readFile, stat } from 'node:fs/promises';
import { describeError, UserError } from '../errors.js';
import { jsonSyntaxProblem, oneLine } from './options.js';

/** Larger definition files are refused unread (the definition's own limit is the same 1 MiB). */
const MAX_DEFINITION_FILE_BYTES = 1024 * 1024;

/** Reads and parses the file; no error ever quotes its content (it could be any file, /etc/shadow too). */
export async function readDefinitionFile(path: string, command: string): Promise<unknown> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError(`${command}: --file ${path}: not a regular file; expected a JSON job definition`);
    if (info.size > MAX_DEFINITION_FILE_BYTES) {
      throw new UserError(`${command}: --file ${path}: ${info.size} bytes; the limit is ${MAX_DEFINITION_FILE_BYTES} (1 MiB)`);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${command}: cannot read ${path}: ${oneLine(describeError(err))}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`${command}: ${path} is ${jsonSyntaxProblem(err, text)}`);
  }
}
