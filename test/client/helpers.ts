/** Helpers of the client tests: a server + client pair on loopback, waiting for conditions. */
import { Lwm2mServer, Lwm2mServerOptions } from '../../src/server';
import { Lwm2mClient, Lwm2mClientOptions } from '../../src/client';

let seq = 0;

export async function startServer(opts: Lwm2mServerOptions = {}): Promise<Lwm2mServer> {
  const server = new Lwm2mServer({ address: '127.0.0.1', port: 0, ...opts });
  await server.start();
  return server;
}

/** A started server and a client registered with it. `close()` stops both. */
export async function pair(clientOpts: Partial<Lwm2mClientOptions> = {}, serverOpts: Lwm2mServerOptions = {}) {
  const server = await startServer(serverOpts);
  const port = server.address().port;
  const client = new Lwm2mClient({
    endpoint: `client-test-${process.pid}-${++seq}`,
    serverUri: `coap://127.0.0.1:${port}`,
    localAddress: '127.0.0.1',
    ...clientOpts,
  });
  const errors: unknown[] = [];
  client.on('error', (e) => errors.push(e));
  await client.start();
  await client.whenRegistered(5000);
  return {
    server, client, port, errors, ep: client.endpointName,
    close: async () => { await client.stop(); await server.close(); },
  };
}

/** Polls `cond` until true (or fails after `timeoutMs`). */
export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
