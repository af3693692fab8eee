import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { migrateDown, migrateToLatest, migrateUp, migrationStatus } from '../db/migrate.js';
import { withStore } from './store.js';

export function registerMigrateCommand(program: Command): void {
  const migrate = program
    .command('migrate')
    .description('apply or revert schema migrations (DATABASE_URL picks the database)')
    .argument('<action>', 'up | down | latest | status')
    .option('--all', 'with down: revert every migration')
    .option('--json', 'print JSON instead of a table')
    .action(async (action: string, options: { all?: boolean; json?: boolean }) => {
      await withStore(async (store) => {
        switch (action) {
          case 'latest':
            return printApplied(await migrateToLatest(store, MIGRATIONS), 'applied', options.json);
          case 'up':
            return printApplied(await migrateUp(store, MIGRATIONS), 'applied', options.json);
          case 'down':
            return printApplied(await migrateDown(store, MIGRATIONS, { all: options.all ?? false }), 'reverted', options.json);
          case 'status': {
            const states = await migrationStatus(store, MIGRATIONS);
            if (options.json) return print(JSON.stringify(states));
            for (const m of states) {
              const state = m.unknown ? 'UNKNOWN' : m.appliedAt === null ? 'pending' : 'applied';
              const when = m.appliedAt === null ? '' : new Date(m.appliedAt).toISOString();
              print(`${state.padEnd(8)} ${m.name}${when ? `  ${when}` : ''}`);
            }
            return;
          }
          default:
            throw new UserError(`migrate: unknown action "${action}"; expected one of up, down, latest, status`);
        }
      });
    });
  migrate.addHelpText('after', '\nEnvironment:\n  DATABASE_URL  sqlite:PATH | postgres://… (default sqlite:./data/jobyard.db)');
}

function printApplied(names: string[], verb: string, json?: boolean): void {
  if (json) return print(JSON.stringify({ [verb]: names }));
  if (names.length === 0) return print(`nothing ${verb}`);
  for (const name of names) print(`${verb} ${name}`);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
