/**
 * The dashboard's live snapshot loop across a shutdown: the daemon closes the store while a
 * viewer's stream may still be open. The loop must end quietly once the viewer has gone, never as
 * an unhandled rejection (which would take the process down on its way out).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LiveSnapshots } from '../../src/http/ui/live.js';
import { describeBackends } from '../helpers/backends.js';

describeBackends('dashboard live snapshots', (ctx) => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  beforeEach(() => {
    rejections.length = 0;
    process.on('unhandledRejection', onRejection);
  });
  afterEach(() => {
    process.off('unhandledRejection', onRejection);
  });

  it('ends quietly when the store closes under an open viewer', async () => {
    const store = ctx.open();
    const live = new LiveSnapshots(store, () => store.clock.now(), 20);
    const snapshots: string[] = [];
    let first!: () => void;
    const gotFirst = new Promise<void>((r) => (first = r));
    const unsubscribe = live.subscribe((json) => {
      snapshots.push(json);
      first();
    });
    await gotFirst;
    await store.close();
    // The viewer's stream is cut a moment after the store has gone, as on shutdown.
    await new Promise((r) => setTimeout(r, 100));
    unsubscribe();
    await expect(live.idle()).resolves.toBeUndefined();
    expect(live.viewers).toBe(0);
    expect(rejections).toEqual([]);
    expect(JSON.parse(snapshots[0]!)).toHaveProperty('at');
  });
});
