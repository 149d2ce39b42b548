import { connectDtls, DtlsClientOptions, DtlsClientSocket } from '../../../src/dtls/client';
import { MemoryPskStore } from '../../../src/dtls/psk-store';
import { createDtlsServer, DtlsServer, DtlsServerOptions } from '../../../src/dtls/server';

/** Helpers shared by the DTLS tests: an echo server on loopback and fast-retransmitting clients. */

export const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

/** Timers short enough for tests (RFC values are 1 s / 60 s). */
export const FAST = { retransmitInitialMs: 50, retransmitMaxMs: 400, handshakeTimeoutMs: 20_000 };

export async function echoServer(opts: Partial<DtlsServerOptions> = {}, store = new MemoryPskStore({ dev1: KEY, dev2: KEY })): Promise<DtlsServer> {
  const server = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: store, ...FAST, ...opts });
  await server.whenListening();
  server.on('message', (msg: Buffer, rinfo: { address: string; port: number; identity?: string }) => {
    server.send(Buffer.concat([Buffer.from(`${rinfo.identity}:`), msg]), rinfo.port, rinfo.address);
  });
  return server;
}

export function client(port: number, opts: Partial<DtlsClientOptions> = {}): Promise<DtlsClientSocket> {
  return connectDtls({ host: '127.0.0.1', port, identity: 'dev1', key: KEY, ...FAST, ...opts });
}

/**
 * Sends `payload` and waits for an answer that starts with `expectPrefix`, resending every `everyMs` (application
 * data is not retransmitted by DTLS: CoAP does that; this plays CoAP's part in tests with loss).
 */
export async function exchange(c: DtlsClientSocket, payload: Buffer, expect: Buffer, everyMs = 100, timeoutMs = 15_000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: Buffer): void => {
      if (m.equals(expect)) done();
    };
    const timer = setInterval(() => c.send(payload), everyMs);
    const deadline = setTimeout(() => { cleanup(); reject(new Error(`no answer to ${payload.toString()}`)); }, timeoutMs);
    const cleanup = (): void => {
      clearInterval(timer);
      clearTimeout(deadline);
      c.off('message', onMessage);
    };
    const done = (): void => { cleanup(); resolve(); };
    c.on('message', onMessage);
    c.send(payload);
  });
}

/** Closes a client (idempotent). */
export function closeClient(c: DtlsClientSocket): Promise<void> {
  return new Promise((resolve) => c.close(() => resolve()));
}

export async function closeServer(s: DtlsServer): Promise<void> {
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

/** Resolves with the arguments of the next `event` (rejects after `ms`). */
export function nextEvent<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { emitter.off(event, on); reject(new Error(`no ${event} within ${ms} ms`)); }, ms);
    const on = (...args: unknown[]): void => { clearTimeout(t); resolve(args as T); };
    emitter.once(event, on);
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until the server has taken in `target` datagrams, or until nothing more arrives for `quietPolls` polls of 5 ms
 * (the kernel may drop some), or `ms` passed.
 */
export async function drained(stats: () => { datagramsReceived: number }, target: number, ms = 5000, quietPolls = 20): Promise<void> {
  const end = Date.now() + ms;
  let seen = -1;
  let still = 0;
  while (Date.now() < end) {
    const n = stats().datagramsReceived;
    if (n >= target) return;
    still = n === seen ? still + 1 : 0;
    if (still > quietPolls) return;
    seen = n;
    await delay(5);
  }
}
