/**
 * Site workers as real child processes (`jobyard worker`), launched and reconciled by the fleet:
 * the embedded default when no Docker Engine answers. Both backends.
 */
import { createProcessLauncher } from '../../src/fleet/process-launcher.js';
import { jobyardEntrypoint } from '../../src/fleet/select-launcher.js';
import { describeBackends } from '../helpers/backends.js';
import { fleetScenarios } from './scenarios.js';

describeBackends('site workers as child processes', (ctx) => {
  fleetScenarios({
    ctx,
    launcher: () => createProcessLauncher({ entrypoint: jobyardEntrypoint(), stdio: 'ignore' }),
    exitedState: 'exited',
    async kill(launcher, workerGuid) {
      const child = (await launcher.list()).find((w) => w.workerGuid === workerGuid);
      process.kill(child!.pid!, 'SIGKILL');
    },
  });
});
