/**
 * The peer under the same storm: lwm2m-node-lib's server (npm, v1.4.0), with its default in-memory registry. It is a
 * process-wide singleton (module state), so each start cleans its registry. Its CoAP library (node-coap 0.22, its own
 * copy) binds every interface; we make it bind loopback only.
 */
import * as path from 'path';

interface PeerLib {
  start(config: Record<string, unknown>, cb: (err: Error | null, info: unknown) => void): void;
  stop(info: unknown, cb: (err?: Error | null) => void): void;
  getRegistry(): { clean(cb: () => void): void; list(cb: (err: Error | null, devices: unknown[]) => void): void };
}

let lib: PeerLib | undefined;
let info: { server?: { _sock?: { address(): { port: number } } } } | undefined;

function load(): PeerLib {
  if (lib) return lib;
  const root = path.dirname(require.resolve('lwm2m-node-lib/package.json'));
  // The peer's own node-coap: bind 127.0.0.1 when no address is given.
  const coap = require(require.resolve('coap', { paths: [root] })) as { createServer: (...a: unknown[]) => { listen: (...a: unknown[]) => unknown } };
  const create = coap.createServer;
  coap.createServer = function (this: unknown, ...a: unknown[]) {
    const s = create.apply(this, a);
    const listen = s.listen;
    s.listen = function (this: unknown, port: unknown, address?: unknown, done?: unknown) {
      if (typeof address === 'function') return listen.call(this, port, '127.0.0.1', address);
      return listen.call(this, port, address ?? '127.0.0.1', done);
    };
    return s;
  };
  lib = (require('lwm2m-node-lib') as { server: PeerLib }).server;
  return lib;
}

export async function start(): Promise<{ port: number }> {
  await stop();
  const server = load();
  await new Promise<void>((resolve) => server.getRegistry?.()?.clean(resolve) ?? resolve());
  info = await new Promise((resolve, reject) => {
    // The sample configuration of lwm2m-node-lib (config.js), on an ephemeral port and with logs off.
    server.start({
      port: 0,
      lifetimeCheckInterval: 1000,
      udpWindow: 100,
      defaultType: 'Device',
      types: [],
      logLevel: 'FATAL',
      ipProtocol: 'udp4',
      serverProtocol: 'udp4',
    }, (err, i) => (err ? reject(err) : resolve(i as typeof info)));
  });
  const port = info?.server?._sock?.address().port;
  if (!port) throw new Error('lwm2m-node-lib: cannot find its port');
  return { port };
}

export async function stop(): Promise<void> {
  if (!lib || !info) return;
  const i = info;
  info = undefined;
  await new Promise<void>((resolve) => lib!.stop(i, () => resolve()));
  await new Promise<void>((resolve) => lib!.getRegistry().clean(resolve));
}

export function count(): Promise<{ registrations: number }> {
  return new Promise((resolve, reject) => {
    if (!lib) return reject(new Error('peer not started'));
    lib.getRegistry().list((err, devices) => (err ? reject(err) : resolve({ registrations: devices.length })));
  });
}
