/** The TCP probe: which of an address's ports accepts a connection. */
import net from 'node:net';

export interface ProbeResult {
  /** The first open port, or null. */
  port: number | null;
  detail: string;
}

/** Tries each port in order; the first that accepts a TCP connection wins. */
export async function probePorts(host: string, ports: readonly number[], timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const failures: string[] = [];
  for (const port of ports) {
    if (signal?.aborted) return { port: null, detail: 'aborted' };
    const error = await tcpConnect(host, port, timeoutMs, signal);
    if (error === null) return { port, detail: `port ${port} open` };
    failures.push(`${port}: ${error}`);
  }
  return { port: null, detail: `no open port (${failures.join('; ')})` };
}

/** null when a TCP connection to host:port succeeds within the timeout, else the reason. */
export function tcpConnect(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let done = false;
    const finish = (error: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(error);
    };
    const timer = setTimeout(() => finish(`timed out after ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => finish('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(null));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}
