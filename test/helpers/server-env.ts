/**
 * Test environment for the LwM2M server: a server on 127.0.0.1 (or ::1) on an ephemeral port with quick CoAP
 * timers, raw devices pointed at it, and a helper that closes everything.
 */
import { Lwm2mServer, Lwm2mServerOptions } from '../../src/server';
import { RawDevice } from './raw-device';
import * as fs from 'fs';
import * as path from 'path';

export interface ServerEnv {
  server: Lwm2mServer;
  port: number;
  address: string;
  device(endpoint: string, opts?: { links?: string }): Promise<RawDevice>;
  close(): Promise<void>;
}

export async function startServer(opts: Lwm2mServerOptions = {}): Promise<ServerEnv> {
  const address = opts.address ?? '127.0.0.1';
  const server = new Lwm2mServer({
    address,
    port: 0,
    requestTimeoutMs: 2000,
    ...opts,
    coap: { ackTimeoutMs: 200, maxRetransmit: 1, ...(opts.coap ?? {}) },
  });
  await server.start();
  const port = server.address().port;
  const devices: RawDevice[] = [];
  return {
    server,
    port,
    address,
    async device(endpoint, dopts = {}) {
      const d = await RawDevice.create({ endpoint, serverPort: port, serverAddress: address, links: dopts.links });
      devices.push(d);
      return d;
    },
    async close() {
      await Promise.all(devices.map((d) => d.close()));
      await server.close();
    },
  };
}

/** Resolves with the arguments of the next `event` (rejects after timeoutMs). */
export function nextEvent<T extends unknown[] = unknown[]>(emitter: { once(e: string, l: (...a: any[]) => void): unknown; off(e: string, l: (...a: any[]) => void): unknown }, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.once(event, listener);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until true (rejects after timeoutMs). */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** A fresh temporary directory (removed by the returned cleanup). */
export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The project root (walking up to our package.json): from test/ under tsx and from dist/test/. */
export { projectRoot } from '../../scripts/node-red-runner';
