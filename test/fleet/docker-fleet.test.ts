/**
 * Site workers as containers of the REAL Docker Engine (image `jobyard-worker:test`, built by
 * `npm test`'s pretest step), launched and reconciled by the fleet, on both backends: SQLite
 * through the data folder mounted at the same path, PostgreSQL through host networking.
 */
import { expect, it } from 'vitest';
import { createDockerLauncher } from '../../src/fleet/docker-launcher.js';
import { describeBackends } from '../helpers/backends.js';
import { useDockerTestEngine } from './docker-engine.js';
import { fleetScenarios } from './scenarios.js';

const { docker, labelledContainers, launcherOptions } = useDockerTestEngine();

describeBackends('site workers as Docker containers', (ctx) => {
  fleetScenarios({
    ctx,
    launcher: () => createDockerLauncher(launcherOptions(ctx)),
    exitedState: 'exited',
    async kill(_launcher, workerGuid) {
      await docker.getContainer(`site-worker-${workerGuid}`).kill({ signal: 'SIGKILL' });
    },
  });

  it('leaves no labelled container behind', async () => {
    expect(await labelledContainers()).toEqual([]);
  });
});
