/**
 * The docker launcher against the REAL Docker Engine: containers are created, started, listed,
 * stopped and removed through the engine's API. No mock and no skip: without an engine (or
 * without the test image) this file fails with the commands that provide them:
 *
 *   bash scripts/docker-engine.sh && npm run build && bash scripts/build-worker-image.sh
 *
 * The `worker` command of the image is not what is under test here, so most containers run
 * `node -e SCRIPT` through the launcher's `entrypoint` / `command` hooks; one checks that the
 * default command is `worker --site N --lanes a,b` on the image's own entrypoint.
 * Every `jobyard.worker_guid`-labelled container is removed in afterAll.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerLauncher, dockerAvailable, DockerLauncherError, workerCommand } from '../../src/fleet/docker-launcher.js';
import { LABEL_FLEET, LABEL_SITE_ID, LABEL_WORKER_GUID, type ObservedWorker, type WorkerLauncher, type WorkerSpec } from '../../src/fleet/launcher.js';
import { TEST_POSTGRES_URL } from '../helpers/env.js';

const IMAGE = process.env.WORKER_TEST_IMAGE ?? 'jobyard-worker:test';
const HOW_TO_START = 'bash scripts/docker-engine.sh && npm run build && bash scripts/build-worker-image.sh';
/** The image's `node` user. */
const CONTAINER_UID = 1000;

const docker = new Dockerode();
/** This file's `jobyard.fleet` label: other test files' workers on the same engine are not ours. */
const FLEET = `test-${randomUUID()}`;
/** node -e scripts per worker guid, read by the `command` hook. */
const scripts = new Map<string, string>();
const tempDirs: string[] = [];

function spec(siteId: number, script: string | null, env: Record<string, string> = {}, lanes: string[] | null = null): WorkerSpec {
  const workerGuid = randomUUID();
  if (script !== null) scripts.set(workerGuid, script);
  return { workerGuid, containerName: `site-worker-${workerGuid}`, siteId, lanes, env: { WORKER_GUID: workerGuid, ...env } };
}

/** A launcher whose containers run `node -e <the spec's script>`. */
function scriptLauncher(extra: Partial<Parameters<typeof createDockerLauncher>[0]> = {}): WorkerLauncher {
  return createDockerLauncher({
    fleet: FLEET,
    image: IMAGE,
    docker,
    entrypoint: ['node'],
    command: (s) => ['-e', scripts.get(s.workerGuid) ?? 'process.exit(99)'],
    ...extra,
  });
}

async function observe(launcher: WorkerLauncher, workerGuid: string): Promise<ObservedWorker | undefined> {
  return (await launcher.list()).find((o) => o.workerGuid === workerGuid);
}

/** Polls list() until the worker has exited; returns what it saw then. */
async function waitExited(launcher: WorkerLauncher, workerGuid: string, timeoutMs = 15_000): Promise<ObservedWorker> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await observe(launcher, workerGuid);
    if (o && !o.running) return o;
    if (Date.now() > deadline) {
      const logs = await docker.getContainer(`site-worker-${workerGuid}`).logs({ stdout: true, stderr: true }).catch(() => '');
      throw new Error(`worker ${workerGuid} did not exit within ${timeoutMs} ms (last seen: ${JSON.stringify(o)}); logs: ${String(logs)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function logsOf(workerGuid: string): Promise<string> {
  const buf = await docker.getContainer(`site-worker-${workerGuid}`).logs({ stdout: true, stderr: true });
  return String(buf);
}

/** Waits until the worker printed `text` (e.g. once its SIGTERM handler is installed). */
async function waitLog(workerGuid: string, text: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await logsOf(workerGuid)).includes(text)) {
    if (Date.now() > deadline) throw new Error(`worker ${workerGuid} did not print ${JSON.stringify(text)} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function removeAllLabelled(): Promise<void> {
  const infos = await docker.listContainers({ all: true, filters: { label: [`${LABEL_FLEET}=${FLEET}`] } });
  await Promise.all(infos.map((i) => docker.getContainer(i.Id).remove({ force: true, v: true }).catch(() => {})));
}

beforeAll(async () => {
  if (!(await dockerAvailable(docker, 3_000))) {
    throw new Error(
      `The Docker Engine is required for test/fleet/docker-launcher.test.ts and does not answer at ` +
        `${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}.\nStart it (and build the test image) with:\n  ${HOW_TO_START}`,
    );
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    throw new Error(`The test worker image ${IMAGE} is missing. Build it with:\n  ${HOW_TO_START}`);
  }
  await removeAllLabelled();
});

afterAll(async () => {
  await removeAllLabelled().catch(() => {});
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('docker launcher (real engine)', () => {
  it('dockerAvailable: true for the engine, false quickly for a socket nobody serves', async () => {
    expect(await dockerAvailable()).toBe(true); // DOCKER_HOST or the default socket
    const started = Date.now();
    expect(await dockerAvailable(new Dockerode({ socketPath: '/nonexistent/docker.sock' }), 1_000)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('launch → list (labels, states, exit code) → stop → remove', async () => {
    const launcher = scriptLauncher({ memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000 });
    // The sleeper exits 0 on SIGTERM, so its exit code proves the signal reached node (through Init).
    const sleeper = spec(11, "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('ready')");
    const exiter = spec(12, 'process.exit(Number(process.env.EXIT_CODE))', { EXIT_CODE: '3' });

    await launcher.launch(sleeper);
    await launcher.launch(exiter);

    const ex = await waitExited(launcher, exiter.workerGuid);
    expect(ex).toEqual({ workerGuid: exiter.workerGuid, containerName: exiter.containerName, siteId: 12, running: false, state: 'exited', exitCode: 3 });
    const sl = await observe(launcher, sleeper.workerGuid);
    expect(sl).toEqual({ workerGuid: sleeper.workerGuid, containerName: sleeper.containerName, siteId: 11, running: true, state: 'running', exitCode: null });

    // What the engine was told.
    const info = await docker.getContainer(sleeper.containerName).inspect();
    expect(info.Config.Labels).toMatchObject({ [LABEL_WORKER_GUID]: sleeper.workerGuid, [LABEL_SITE_ID]: '11' });
    expect(info.Config.Env).toContain(`WORKER_GUID=${sleeper.workerGuid}`);
    expect(info.Config.User).toBe('node'); // the image's USER: the launcher does not override it
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);

    await waitLog(sleeper.workerGuid, 'ready');
    const started = Date.now();
    await launcher.stop(sleeper.workerGuid, { graceMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(4_000); // SIGTERM, not the 5 s kill
    expect(await observe(launcher, sleeper.workerGuid)).toMatchObject({ running: false, state: 'exited', exitCode: 0 });

    // Stopping an exited or unknown worker is not an error.
    await launcher.stop(exiter.workerGuid, { graceMs: 1_000 });
    await launcher.stop(randomUUID());

    await launcher.remove(sleeper.workerGuid);
    await launcher.remove(exiter.workerGuid);
    await launcher.remove(randomUUID()); // unknown: no error
    const left = (await launcher.list()).filter((o) => o.workerGuid === sleeper.workerGuid || o.workerGuid === exiter.workerGuid);
    expect(left).toEqual([]);
    await launcher.close();
  });

  it('a stop that outlasts the grace kills the worker (137)', async () => {
    const launcher = scriptLauncher();
    const stubborn = spec(13, "process.on('SIGTERM', () => console.log('ignored')); setInterval(() => {}, 1000); console.log('ready')");
    await launcher.launch(stubborn);
    await waitLog(stubborn.workerGuid, 'ready');
    const started = Date.now();
    await launcher.stop(stubborn.workerGuid, { graceMs: 1 }); // t = ceil(1/1000) = 1 s
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await observe(launcher, stubborn.workerGuid)).toMatchObject({ running: false, exitCode: 137 });
    expect(await logsOf(stubborn.workerGuid)).toContain('ignored'); // it did get the SIGTERM first
    await launcher.remove(stubborn.workerGuid);
  });

  it('a launcher sees only the workers of its own fleet label', async () => {
    const launcher = scriptLauncher();
    const other = createDockerLauncher({ fleet: `${FLEET}-other`, image: IMAGE, docker });
    const s = spec(61, 'setTimeout(() => {}, 30000)');
    await launcher.launch(s);
    expect(await observe(launcher, s.workerGuid)).toMatchObject({ running: true });
    expect(await observe(other, s.workerGuid)).toBeUndefined();
    await other.stop(s.workerGuid, { graceMs: 0 });
    expect(await observe(launcher, s.workerGuid)).toMatchObject({ running: true });
    const info = await docker.getContainer(s.containerName).inspect();
    expect(info.Config.Labels).toMatchObject({ [LABEL_FLEET]: FLEET, [LABEL_WORKER_GUID]: s.workerGuid, [LABEL_SITE_ID]: '61' });
    await launcher.stop(s.workerGuid, { graceMs: 0 });
    await launcher.remove(s.workerGuid);
  });

  it('the default command is `worker --site N --lanes a,b` on the image entrypoint', async () => {
    const s = spec(21, null, {}, ['email', 'sync']);
    expect(workerCommand(s)).toEqual(['worker', '--site', '21', '--lanes', 'email,sync']);
    expect(workerCommand({ ...s, lanes: null })).toEqual(['worker', '--site', '21']);
    const launcher = createDockerLauncher({ fleet: FLEET, image: IMAGE, docker });
    await launcher.launch(s);
    const info = await docker.getContainer(s.containerName).inspect();
    expect(info.Config.Entrypoint).toEqual(['node', '/app/bin/jobyard.js']);
    expect(info.Config.Cmd).toEqual(['worker', '--site', '21', '--lanes', 'email,sync']);
    await launcher.remove(s.workerGuid);
    expect(await observe(launcher, s.workerGuid)).toBeUndefined();
  });

  it('with host networking a worker reaches the PostgreSQL the host reaches', async () => {
    const url = new URL(TEST_POSTGRES_URL);
    const host = url.hostname || '127.0.0.1';
    const port = Number(url.port || 5432);
    const launcher = scriptLauncher();
    const probe = spec(
      31,
      `require('net').connect(${port}, ${JSON.stringify(host)})` +
        `.on('connect', () => { console.log('connected'); process.exit(0); })` +
        `.on('error', (e) => { console.error(e.message); process.exit(1); })`,
    );
    await launcher.launch(probe);
    const o = await waitExited(launcher, probe.workerGuid);
    expect({ exitCode: o.exitCode, logs: await logsOf(probe.workerGuid) }).toMatchObject({ exitCode: 0, logs: expect.stringContaining('connected') });
    await launcher.remove(probe.workerGuid);
  });

  it('the SQLite data dir is mounted at the same path and writable by the container user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobyard-docker-data-'));
    tempDirs.push(dir);
    // The image runs as uid 1000 (node): the data dir must be writable by it.
    if (process.getuid?.() === 0) chownSync(dir, CONTAINER_UID, CONTAINER_UID);
    else chmodSync(dir, 0o777);
    const dbPath = join(dir, 'jobyard.db');
    const launcher = scriptLauncher({ sqliteDataDir: dir });
    const writer = spec(
      41,
      `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(join(dir, 'probe.txt'))}, 'written by ' + process.getuid());` +
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(dbPath)}); db.pragma('journal_mode = WAL');` +
        `db.exec('create table t (v text)'); db.prepare('insert into t values (?)').run('from the container'); db.close();`,
    );
    await launcher.launch(writer);
    const o = await waitExited(launcher, writer.workerGuid);
    expect({ exitCode: o.exitCode, logs: await logsOf(writer.workerGuid) }).toEqual({ exitCode: 0, logs: '' });
    expect(readFileSync(join(dir, 'probe.txt'), 'utf8')).toBe(`written by ${CONTAINER_UID}`);
    expect(statSync(join(dir, 'probe.txt')).uid).toBe(CONTAINER_UID);
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.prepare('select v from t').all()).toEqual([{ v: 'from the container' }]);
    } finally {
      db.close();
    }
    const mounts = (await docker.getContainer(writer.containerName).inspect()).Mounts;
    expect(mounts).toEqual([expect.objectContaining({ Type: 'bind', Source: dir, Destination: dir, RW: true })]);
    await launcher.remove(writer.workerGuid);
  });

  it('the `user` option runs the worker as the host user (for a data dir only that user may write)', async () => {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const dir = mkdtempSync(join(tmpdir(), 'jobyard-docker-data-'));
    tempDirs.push(dir);
    chmodSync(dir, 0o700);
    const launcher = scriptLauncher({ sqliteDataDir: dir, user: `${uid}:${gid}` });
    const writer = spec(42, `require('fs').writeFileSync(${JSON.stringify(join(dir, 'probe.txt'))}, String(process.getuid()))`);
    await launcher.launch(writer);
    const o = await waitExited(launcher, writer.workerGuid);
    expect({ exitCode: o.exitCode, logs: await logsOf(writer.workerGuid) }).toEqual({ exitCode: 0, logs: '' });
    expect(readFileSync(join(dir, 'probe.txt'), 'utf8')).toBe(String(uid));
    await launcher.remove(writer.workerGuid);
  });

  it('engine errors name the container; a failed launch leaves no container behind', async () => {
    const missing = createDockerLauncher({ fleet: FLEET, image: 'jobyard-no-such-image:never', docker });
    const s1 = spec(51, null);
    const err = await missing.launch(s1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DockerLauncherError);
    expect((err as DockerLauncherError).statusCode).toBe(404);
    expect((err as Error).message).toContain(s1.containerName);
    expect((err as Error).message).toMatch(/no such image/i);

    // Created but not startable (its network does not exist): removed again, error names it.
    const broken = createDockerLauncher({ fleet: FLEET, image: IMAGE, docker, networkMode: 'jobyard-no-such-network' });
    const s2 = spec(52, null);
    await expect(broken.launch(s2)).rejects.toThrow(new RegExp(`cannot start container ${s2.containerName}: .*network jobyard-no-such-network not found`));
    expect(await observe(broken, s2.workerGuid)).toBeUndefined();

    // A name already taken: the engine's conflict, with the name.
    const launcher = scriptLauncher();
    const s3 = spec(53, 'setTimeout(() => {}, 30000)');
    await launcher.launch(s3);
    await expect(launcher.launch({ ...s3, workerGuid: randomUUID() })).rejects.toThrow(new RegExp(`cannot create container ${s3.containerName}.*(Conflict|already in use)`, 'i'));
    await launcher.stop(s3.workerGuid, { graceMs: 0 });
    await launcher.remove(s3.workerGuid);
  });
});
