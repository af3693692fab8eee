import { expect, it } from 'vitest';
import { describeBackends } from '../helpers/backends.js';
import { runJobyard as jobyard } from '../helpers/cli.js';

describeBackends(
  'jobyard migrate',
  (ctx) => {
    it('latest, status, down to zero, status', async () => {
      const env = { DATABASE_URL: ctx.url };
      expect((await jobyard(['migrate', 'status'], env)).stdout).toMatch(/^pending\s+20261123_0001_initial_schema$/m);
      const latest = await jobyard(['migrate', 'latest'], env);
      expect(latest).toMatchObject({ code: 0 });
      expect(latest.stdout).toMatch(/applied 20261123_0001_initial_schema/);
      const status = await jobyard(['migrate', 'status', '--json'], env);
      const states = JSON.parse(status.stdout) as Array<{ appliedAt: number | null }>;
      expect(states.length).toBeGreaterThan(0);
      expect(states.every((s) => s.appliedAt !== null)).toBe(true);
      const down = await jobyard(['migrate', 'down', '--all'], env);
      expect(down.code).toBe(0);
      expect((await jobyard(['migrate', 'status'], env)).stdout).not.toMatch(/^applied/m);
    });
  },
  { migrate: false },
);

it('an unsupported DATABASE_URL prints one line and exits 2', async () => {
  const r = await jobyard(['migrate', 'status'], { DATABASE_URL: 'mysql://root:pw@x/db' });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^jobyard: invalid configuration: unsupported DATABASE_URL "mysql:\/\/root:\*\*\*@x\/db"/);
  expect(r.stderr).not.toContain('pw@');
});

it('an unknown action exits 2 naming the accepted values, no stack trace', async () => {
  const r = await jobyard(['migrate', 'sideways'], { DATABASE_URL: 'sqlite::memory:' });
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe('jobyard: migrate: unknown action "sideways"; expected one of up, down, latest, status');
});
