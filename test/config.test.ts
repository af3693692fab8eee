/** The configuration module: every problem at once, and every variable documented. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('the README configuration table documents every variable jobyard reads', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'));
    const undocumented = CONFIG_VARIABLES.filter((name) => !table.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(30);
  });

  it('reports every invalid variable in one error, each naming the variable', () => {
    const env = { LOG_LEVEL: 'loud', HTTP_PORT: '70000', WORKER_LAUNCHER: 'k8s', SERVICE_ACTION_ALLOW: 'not a key', MAX_WORKERS: '0' };
    let message = '';
    try {
      loadConfig(env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toHaveLength(1);
    for (const name of Object.keys(env)) expect(message).toContain(`${name}:`);
  });

  it('counts, sizes and intervals in milliseconds must be whole numbers', () => {
    for (const name of ['WORKER_CONCURRENCY', 'MAX_WORKERS', 'MAX_WORKERS_PER_SITE', 'SERVICE_ACTION_CONCURRENCY', 'TICK_INTERVAL_MS', 'WORKER_MEMORY_MB', 'DB_CONNECTION_BUDGET']) {
      expect(() => loadConfig({ [name]: '1000.5' }), name).toThrow(new RegExp(`^invalid configuration: ${name}: "1000\\.5" is not a whole number >= \\d+$`));
    }
    expect(loadConfig({ WORKER_CONCURRENCY: '3', MAX_WORKERS: '40' })).toMatchObject({ WORKER_CONCURRENCY: 3, MAX_WORKERS: 40 });
    // DB_CONNECTION_BUDGET: unset means "from the server"; when set, at least 1.
    expect(loadConfig({}).DB_CONNECTION_BUDGET).toBeUndefined();
    expect(loadConfig({ DB_CONNECTION_BUDGET: '60' }).DB_CONNECTION_BUDGET).toBe(60);
    expect(() => loadConfig({ DB_CONNECTION_BUDGET: '0' })).toThrow(/^invalid configuration: DB_CONNECTION_BUDGET: "0" is not a whole number >= 1$/);
  });

  it('checks DATABASE_URL with the rest', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://h:99999/x', MAX_WORKERS: '2.5' })).toThrow(/DATABASE_URL .*port "99999".*; MAX_WORKERS: "2\.5"/);
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).DATABASE_URL).toBe('sqlite::memory:');
  });

  it('defaults match the README for the settings an operator meets first', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ WORKER_LAUNCHER: 'auto', WORKER_CONCURRENCY: 7, WORKER_IDLE_SECONDS: 30, MAX_WORKERS_PER_SITE: 1, HTTP_HOST: '127.0.0.1', HTTP_PORT: 8787, SERVICE_SNAPSHOT_SECONDS: 15, WORKER_HISTORY_SECONDS: 60 });
    expect(c.SERVICE_ACTION_ALLOW.size).toBe(0);
  });
});
