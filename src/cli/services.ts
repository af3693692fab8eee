import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.js';
import { print } from './output.js';
import { withStore } from './store.js';

/**
 * `jobyard services restart|stop|start <project>/<service>`: enqueues one `service_action` item
 * and prints its id. The scheduler's service-action consumer runs it, if the service is on its
 * SERVICE_ACTION_ALLOW list.
 */
export function registerServicesCommand(program: Command): Command {
  const services = program
    .command('services')
    .description('restart, stop or start a compose service (through the scheduler, within SERVICE_ACTION_ALLOW)');

  const verbs = [
    ['restart', 'restart every container of a compose service'],
    ['stop', 'stop every container of a compose service'],
    ['start', 'start every container of a compose service'],
  ] as const;
  for (const [action, description] of verbs) {
    services
      .command(action)
      .description(`${description}; prints the work item id`)
      .argument('<service>', 'the service as <project>/<service> (its com.docker.compose.* labels)')
      .option('--json', 'print the new work item as JSON instead of its id')
      .action(async (service: string, options: { json?: boolean }) => {
        const { enqueueServiceActionAsOperator, validateServiceAction } = await import('../services/enqueue.js');
        // Checked before the database is opened: bad input needs no database to be reported.
        validateServiceAction({ action, service });
        await withStore(async (store) => {
          const item = await enqueueServiceActionAsOperator(store, { action, service }, cliActor());
          print(options.json ? JSON.stringify(item) : String(item.id));
        });
      });
  }
  return services;
}
