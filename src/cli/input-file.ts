/**
 * Reads an input file named on the command line (`-` is stdin) with a size limit. No error ever
 * quotes the file's content: it could be any file.
 */
import { readFile, stat } from 'node:fs/promises';
import { describeError, UserError } from '../errors.js';
import { jsonSyntaxProblem, oneLine } from './options.js';

export const MAX_INPUT_BYTES = 10 * 1024 * 1024;

export async function readInputFile(path: string, what: string, maxBytes = MAX_INPUT_BYTES): Promise<string> {
  if (path === '-') return readStdin(what, maxBytes);
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError(`${what}: ${path}: not a regular file`);
    if (info.size > maxBytes) throw new UserError(`${what}: ${path}: ${info.size} bytes; the limit is ${maxBytes}`);
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${what}: cannot read ${path}: ${oneLine(describeError(err))}`);
  }
}

export async function readJsonFile(path: string, what: string): Promise<unknown> {
  const text = await readInputFile(path, what, 1024 * 1024);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`${what}: ${path} is ${jsonSyntaxProblem(err, text)}`);
  }
}

async function readStdin(what: string, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new UserError(`${what}: stdin: more than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
