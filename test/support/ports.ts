// Free loopback ports for servers started by tests and local scripts.
import net from 'node:net';

// Ports handed out by this process. The kernel may give a just-released port to the
// next bind(0), so two callers planning ports up front could otherwise get the same one.
const handedOut = new Set<number>();

/** Asks the kernel for a free TCP port on `host` (released before returning, never the same twice per process). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await kernelPort(host);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

async function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port. */
export async function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
