import { createServer } from 'node:net';

/**
 * Ports this process has handed out already. The OS may give the same port to two port-0 binds in a
 * row once the first socket is closed (measured: 2 back-to-back repeats in 2,000 calls), and a stack
 * asks for its ports back to back before any child binds them — two sandboxes on one port, one of
 * them dying with EADDRINUSE while the other answers the first one's readiness probe.
 */
const handedOut = new Set<number>();

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it), never one this process handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await osPort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no port free on 127.0.0.1 that was not handed out already (${handedOut.size} handed out)`);
}
