/** A spare worker's assignment on stdin (src/fleet/spare-worker.ts): read, checked, or nothing. No database. */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { assignmentJson, waitForAssignment } from '../../src/fleet/spare-worker.js';

const stdin = (text: string) => Readable.from(text === '' ? [] : [Buffer.from(text)]);

describe('a spare worker\'s assignment', () => {
  it('is what the launcher wrote: the worker arguments, the plain environment and the secrets', async () => {
    const json = assignmentJson(['--site', '3', '--lanes', 'a,b'], { WORKER_GUID: 'g' }, { DATABASE_URL: 'postgres://u:p@h/db' });
    expect(await waitForAssignment(stdin(json))).toEqual({
      args: ['--site', '3', '--lanes', 'a,b'],
      env: { WORKER_GUID: 'g' },
      secrets: { DATABASE_URL: 'postgres://u:p@h/db' },
    });
  });

  it('is nothing when stdin closes empty: the launcher stopped the spare unused', async () => {
    expect(await waitForAssignment(stdin(''))).toBeNull();
    expect(await waitForAssignment(stdin('  \n'))).toBeNull();
  });

  it('refuses anything else with one line naming the expected shape', async () => {
    await expect(waitForAssignment(stdin('{"args":'))).rejects.toThrow('WORKER_SPARE=stdin but stdin is not a JSON object');
    for (const bad of ['[]', 'null', '{"args":"--site 3","env":{},"secrets":{}}', '{"args":[],"env":{"A":1},"secrets":{}}', '{"args":[],"env":{}}']) {
      await expect(waitForAssignment(stdin(bad)), bad).rejects.toThrow('stdin is not an assignment (args: strings, env and secrets: objects of strings)');
    }
  });
});
