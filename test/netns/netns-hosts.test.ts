/**
 * The network-namespace test bed itself: a host reaches the machine only over its link, through a
 * forwarder to a loopback service, and a link taken down drops traffic until it is brought up.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetnsHost, forwardTcp, type NetnsHost, type TcpForwarder } from '../helpers/netns.js';

/** Connects from inside the namespace and prints what the server sent, or the error code. */
const probe = (port: number, host: string) =>
  `const s=require('net').connect(${port},'${host}');s.setTimeout(1500);` +
  `s.on('data',d=>{process.stdout.write(String(d));s.destroy()});` +
  `s.on('timeout',()=>{process.stdout.write('TIMEOUT');s.destroy()});s.on('error',e=>process.stdout.write(e.code))`;

describe('network-namespace test hosts', () => {
  let host: NetnsHost;
  let service: Server;
  let forwarder: TcpForwarder;

  beforeAll(async () => {
    host = await createNetnsHost();
    service = createServer((socket) => socket.end('hello from loopback'));
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const port = (service.address() as { port: number }).port;
    forwarder = await forwardTcp(host.gateway, { host: '127.0.0.1', port });
  });

  afterAll(async () => {
    await forwarder?.close();
    service?.close();
    await host?.destroy();
  });

  it('reaches a loopback service through the forwarder on its gateway', async () => {
    expect(await host.exec(process.execPath, ['-e', probe(forwarder.port, forwarder.host)])).toBe('hello from loopback');
  });

  it('cannot reach the machine loopback directly: the namespace has its own', async () => {
    const port = (service.address() as { port: number }).port;
    expect(await host.exec(process.execPath, ['-e', probe(port, '127.0.0.1')])).toBe('ECONNREFUSED');
  });

  it('drops traffic while the link is down and carries it again once it is up', async () => {
    await host.linkDown();
    expect(await host.exec(process.execPath, ['-e', probe(forwarder.port, forwarder.host)])).toMatch(/TIMEOUT|ENETUNREACH|EHOSTUNREACH/);
    await host.linkUp();
    expect(await host.exec(process.execPath, ['-e', probe(forwarder.port, forwarder.host)])).toBe('hello from loopback');
  });
});
