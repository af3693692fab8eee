/**
 * `jobyard devices host-key show|repin <hostname>`: the SSH host key pinned for a device on
 * first contact, and the operator's way to accept a changed key (the pin is removed, audited;
 * the next contact pins the key the host then presents). Attached to the `devices` command group
 * (created here when no other module has registered it yet).
 */
import type { Command } from 'commander';
import { NotFoundError, ValidationError } from '../errors.js';
import { iso, print, printTable } from './output.js';
import { withStore } from './store.js';

export function registerHostKeyCommand(program: Command): Command {
  const devices = program.commands.find((c) => c.name() === 'devices') ?? program.command('devices').description('inventory devices');
  const hostKey = devices.command('host-key').description("a device's pinned SSH host key (trust on first use)");
  hostKey
    .command('show')
    .description('show the SSH host key pinned for a device')
    .argument('<hostname>', 'the device')
    .option('--json', 'print JSON instead of a table')
    .action(async (hostname: string, options: { json?: boolean }) => {
      await withStore(async (store) => {
        const device = await findDevice(store, hostname);
        const { hostKeysOfDevice } = await import('../executors/ssh/host-keys.js');
        const pins = await hostKeysOfDevice(store, device.guid);
        if (options.json) return print(JSON.stringify(pins));
        if (pins.length === 0) return print(`device ${device.hostname}: no SSH host key pinned yet (the first contact pins one)`);
        printTable(
          ['hostname', 'key type', 'fingerprint', 'first seen at', 'pinned', 'last seen'],
          pins.map((p) => [device.hostname, p.key_type, p.fingerprint, p.address, iso(p.pinned_at), iso(p.last_seen_at)]),
        );
      });
    });
  hostKey
    .command('repin')
    .description("forget a device's pinned SSH host key: the next contact pins the key the host then presents (audited)")
    .argument('[hostname]', 'the device')
    .option('--address <host:port>', 'an address pinned by onboarding before it became a device (port 22 when left out)')
    .action(async (hostname: string | undefined, options: { address?: string }) => {
      if ((hostname === undefined) === (options.address === undefined)) {
        throw new ValidationError(['devices host-key repin: give a hostname or --address host[:port], not both']);
      }
      await withStore(async (store) => {
        const [keys, { cliActor }] = await Promise.all([import('../executors/ssh/host-keys.js'), import('../audit/audit-log.js')]);
        if (options.address !== undefined) {
          const { parseEndpoint } = await import('../executors/ssh/endpoint.js');
          const at = parseEndpoint(options.address);
          if (!at) throw new ValidationError([`devices host-key repin: --address must be host, host:port or [v6]:port, got ${JSON.stringify(options.address)}`]);
          const removed = await keys.repinAddressHostKey(store, at.host, at.port, cliActor());
          return print(`address ${at.host}:${at.port}: removed pinned ${removed.key_type} ${removed.fingerprint}; the next SSH contact pins the key it is shown`);
        }
        const device = await findDevice(store, hostname!);
        const removed = await keys.repinHostKey(store, device, cliActor());
        print(`device ${device.hostname}: removed pinned ${removed.key_type} ${removed.fingerprint}; the next SSH contact pins the key it is shown`);
      });
    });
  return hostKey;
}

async function findDevice(store: Parameters<Parameters<typeof withStore>[0]>[0], hostname: string) {
  const { findDeviceByHostname } = await import('../inventory/devices.js');
  const device = await findDeviceByHostname(store, hostname);
  if (!device) throw new NotFoundError(`devices host-key: no device with hostname ${JSON.stringify(hostname)}`);
  return device;
}
