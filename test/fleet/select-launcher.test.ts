/** WORKER_LAUNCHER → a launcher, against the real engine this machine runs (and one that is absent). */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import { defaultFleetId, selectLauncher } from '../../src/fleet/select-launcher.js';
import { silentLogger } from '../../src/log.js';

const sqlite = parseDatabaseUrl('sqlite:./data/x.db');
/** Built by npm test's pretest step (scripts/build-worker-image.sh). */
const IMAGE = process.env.WORKER_TEST_IMAGE ?? 'jobyard-worker:test';
const savedDockerHost = process.env.DOCKER_HOST;
afterEach(() => {
  if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = savedDockerHost;
});

describe('selectLauncher', () => {
  it('process, off, and auto/docker when the engine answers and holds the image', async () => {
    expect((await selectLauncher(loadConfig({ WORKER_LAUNCHER: 'process' }), sqlite, silentLogger))?.launcher.kind).toBe('process');
    expect(await selectLauncher(loadConfig({ WORKER_LAUNCHER: 'off' }), sqlite, silentLogger)).toBeUndefined();
    const auto = await selectLauncher(loadConfig({ WORKER_IMAGE: IMAGE }), sqlite, silentLogger);
    expect(auto).toMatchObject({ reason: 'WORKER_LAUNCHER=auto and the Docker Engine answers' });
    expect(auto?.launcher.kind).toBe('docker');
    expect((await selectLauncher(loadConfig({ WORKER_LAUNCHER: 'docker', WORKER_IMAGE: IMAGE }), sqlite, silentLogger))?.launcher.kind).toBe('docker');
  });

  it('an engine without the worker image: auto falls back to process, docker is a clear error', async () => {
    const env = { WORKER_IMAGE: 'jobyard-no-such-image:never' };
    const auto = await selectLauncher(loadConfig(env), sqlite, silentLogger);
    expect(auto).toMatchObject({ reason: 'WORKER_LAUNCHER=auto and the Docker Engine has no image jobyard-no-such-image:never' });
    expect(auto?.launcher.kind).toBe('process');
    await expect(selectLauncher(loadConfig({ ...env, WORKER_LAUNCHER: 'docker' }), sqlite, silentLogger)).rejects.toThrow(
      /^WORKER_LAUNCHER=docker but the engine has no image "jobyard-no-such-image:never"/,
    );
  });

  it('without an engine: auto falls back to process, docker is a clear error', async () => {
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    const auto = await selectLauncher(loadConfig({}), sqlite, silentLogger);
    expect(auto).toMatchObject({ reason: 'WORKER_LAUNCHER=auto and no Docker Engine answers' });
    expect(auto?.launcher.kind).toBe('process');
    await expect(selectLauncher(loadConfig({ WORKER_LAUNCHER: 'docker' }), sqlite, silentLogger)).rejects.toThrow(
      /^WORKER_LAUNCHER=docker but no Docker Engine answers/,
    );
  });

  it('rejects an unknown WORKER_LAUNCHER naming the accepted values', () => {
    expect(() => loadConfig({ WORKER_LAUNCHER: 'k8s' })).toThrow('WORKER_LAUNCHER: unknown value "k8s"; expected one of auto, docker, process, off');
  });
});

describe('default fleet id', () => {
  it('derives one fleet id per database, never from the password', () => {
    expect(defaultFleetId(sqlite)).toBe(defaultFleetId(parseDatabaseUrl(`sqlite:${process.cwd()}/data/x.db`)));
    expect(defaultFleetId(sqlite)).not.toBe(defaultFleetId(parseDatabaseUrl('sqlite:./data/y.db')));
    expect(defaultFleetId(parseDatabaseUrl('postgres://u:a@db/j'))).toBe(defaultFleetId(parseDatabaseUrl('postgres://u:b@db/j')));
    expect(defaultFleetId(sqlite)).toMatch(/^[0-9a-f]{12}$/);
  });
});
