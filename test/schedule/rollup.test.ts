/** rollUpRun: a run's final status from its items, frozen targets and onboarding targets. Pure. */
import { describe, expect, it } from 'vitest';
import { rollUpRun, type RollupItem, type RollupTarget } from '../../src/schedule/rollup.js';

const item = (site_id: number, status: string, error: string | null = null): RollupItem => ({ site_id, status, error, started_at: 100, finished_at: 200 });
const target = (id: number, site_id: number, status: string | null, resolution_status = 'resolved'): RollupTarget =>
  ({ id, site_id, status, resolution_status }) as RollupTarget;

describe('rollUpRun', () => {
  it('waits while any item is queued or running', () => {
    expect(rollUpRun([item(1, 'succeeded'), item(2, 'running')], [])).toBeNull();
    expect(rollUpRun([item(1, 'queued')], [])).toBeNull();
  });

  it('Success when every delivered target succeeded; Pending targets take their site item outcome', () => {
    const r = rollUpRun([item(1, 'succeeded')], [target(1, 1, 'Success'), target(2, 1, 'Pending')])!;
    expect(r).toMatchObject({ status: 'Success', error: null, startedTs: 100, finishedTs: 200 });
    expect([...r.targetUpdates]).toEqual([[2, 'Success']]);
  });

  it('Partial with some failures or offline targets; Failed with the dead item error; Expired when all offline', () => {
    expect(rollUpRun([item(1, 'succeeded')], [target(1, 1, 'Success'), target(2, 1, 'Failed')])!.status).toBe('Partial');
    expect(rollUpRun([item(1, 'succeeded')], [target(1, 1, 'Success'), target(2, 1, 'Expired', 'offline')])!.status).toBe('Partial');
    const dead = rollUpRun([item(1, 'dead', 'boom')], [target(1, 1, 'Pending')])!;
    expect(dead).toMatchObject({ status: 'Failed', error: 'boom' });
    expect([...dead.targetUpdates]).toEqual([[1, 'Failed']]);
    expect(rollUpRun([item(1, 'succeeded')], [target(1, 1, 'Expired', 'offline')])!.status).toBe('Expired');
  });

  it('onboarding runs: their onboarding targets decide, excluded and skipped entries do not count', () => {
    expect(rollUpRun([item(1, 'succeeded')], [], ['enrolled', 'enrolled', 'excluded'])!.status).toBe('Success');
    expect(rollUpRun([item(1, 'succeeded')], [], ['enrolled', 'unreachable', 'invalid'])!.status).toBe('Partial');
    const none = rollUpRun([item(1, 'succeeded')], [], ['unreachable', 'install_failed', 'approval_timeout', 'skipped'])!;
    expect(none.status).toBe('Failed');
    expect(none.error).toBe('3 target(s) failed');
  });

  it('without any target, the items decide', () => {
    expect(rollUpRun([item(1, 'succeeded')], [], ['excluded'])!.status).toBe('Success');
    expect(rollUpRun([item(1, 'succeeded'), item(2, 'dead', 'x')], [])).toMatchObject({ status: 'Partial', error: 'x' });
  });
});
