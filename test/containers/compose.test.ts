/**
 * compose.yaml as `docker-compose config` reads it (the README's `docker compose up` and
 * `docker compose --profile postgres up`). docker-compose is installed by scripts/docker-engine.sh.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** The API token compose requires (the API listens on all of the container's interfaces). */
const TOKEN_ENV = { HTTP_TOKEN: 'a-long-random-bootstrap-token' };

function config(args: string[], env: Record<string, string> = {}): string {
  return execFileSync('docker-compose', ['-f', join(ROOT, 'compose.yaml'), ...args, 'config'], {
    cwd: ROOT,
    env: { ...process.env, ...TOKEN_ENV, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('compose.yaml', () => {
  it('validates; PostgreSQL is only in the postgres profile, the scheduler in every one', () => {
    execFileSync('docker-compose', ['-f', join(ROOT, 'compose.yaml'), 'config', '-q'], { cwd: ROOT, env: { ...process.env, ...TOKEN_ENV } });
    const out = config([]);
    // (docker-compose v1 lists every service in `config`; `profiles` says which ones `up` starts.)
    const postgres = out.slice(out.indexOf('\n  postgres:'));
    expect(postgres).toMatch(/^\s+profiles:\n\s+- postgres$/m);
    const scheduler = out.slice(out.indexOf('\n  scheduler:'));
    expect(scheduler.split('\n  postgres:')[0]).not.toMatch(/profiles:/);
  });

  it('the scheduler runs under an init, reaches the engine socket and launches workers from its own image', () => {
    const out = config([], { DOCKER_GID: '998' });
    expect(out).toMatch(/init: true/);
    expect(out).toMatch(/\/var\/run\/docker\.sock:\/var\/run\/docker\.sock/);
    expect(out).toMatch(/'998'|"998"|- 998/);
    expect(out).toMatch(/WORKER_LAUNCHER: docker/);
    expect(out).toMatch(/WORKER_IMAGE: jobyard:local/);
    expect(out).toMatch(/WORKER_NETWORK: jobyard/);
    expect(out).toMatch(/WORKER_DATA_VOLUME: jobyard-data/);
    expect(out).toMatch(/DATABASE_URL: sqlite:\/data\/jobyard\.db/);
  });

  it('refuses to start without HTTP_TOKEN, saying what to set', () => {
    const env = { ...process.env };
    delete env.HTTP_TOKEN;
    let stderr = '';
    try {
      execFileSync('docker-compose', ['-f', join(ROOT, 'compose.yaml'), 'config', '-q'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(stderr).toMatch(/set HTTP_TOKEN to a long random string/);
    expect(config([])).toMatch(/HTTP_TOKEN: a-long-random-bootstrap-token/);
  });

  it('DATABASE_URL switches the scheduler to the postgres service', () => {
    const out = config(['--profile', 'postgres'], { DATABASE_URL: 'postgres://jobyard:jobyard@postgres:5432/jobyard' });
    expect(out).toMatch(/DATABASE_URL: postgres:\/\/jobyard:jobyard@postgres:5432\/jobyard/);
    expect(out).toMatch(/image: postgres:16-alpine/);
  });
});
