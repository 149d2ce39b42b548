/**
 * Server side of the benchmarks of our server (runs in the worker process): start an {@link Lwm2mServer} on loopback
 * (plain UDP or DTLS PSK), drive Reads and Observes from it, count notifications, measure memory.
 */
import { EventEmitter } from 'events';
import { Lwm2mServer } from '../../src/server/server';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import type { DatagramSocket, Peer } from '../../src/coap/types';
import { createDtlsServer, DtlsServer } from '../../src/dtls/index';
import { InMemorySecurityStore } from '../../src/server/security-store';
import { RegisterTemplate } from '../lib/raw-coap';

/** Endpoint names of DTLS devices: `dtls-0000042` has PSK identity `bench-42`. */
export const DTLS_PREFIX = 'dtls-';

/** A device that never answers fails a Read after this (the flow nodes' default is 10 s; the transport's 93 s). */
const REQUEST_TIMEOUT_MS = 15_000;

let server: Lwm2mServer | undefined;
let dtls: DtlsServer | undefined;
let notifications = 0;
let meter: { cpu: NodeJS.CpuUsage; t: bigint; notifications: number } | undefined;

export interface StartOptions {
  /** Transport options of the server's UDP endpoint. */
  coap?: Record<string, unknown>;
  /** Serve over DTLS PSK (identities `bench-<i>`, one key for all) instead of plain UDP. */
  dtls?: { identities: number; key: string };
}

export async function start(o: StartOptions = {}): Promise<{ port: number }> {
  await stop();
  notifications = 0;
  if (o.dtls) {
    // Identity `bench-<i>` belongs to the device named like the storm's device i (Core 1.1 7.1: the identity must be
    // the registering endpoint's).
    const names = new RegisterTemplate(DTLS_PREFIX, 7);
    const store = new InMemorySecurityStore();
    const key = Buffer.from(o.dtls.key, 'hex');
    for (let i = 0; i < o.dtls.identities; i++) store.add({ endpoint: names.endpointName(i), identity: `bench-${i}`, key });
    dtls = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: store, maxHandshakes: 100_000 });
    await dtls.whenListening();
    const endpoint = new UdpCoapEndpoint(dtls as unknown as DatagramSocket, o.coap ?? {});
    server = new Lwm2mServer({ listen: false, endpoints: [{ endpoint, secure: true }], securityStore: store, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  } else {
    server = new Lwm2mServer({ address: '127.0.0.1', port: 0, coap: o.coap, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  }
  server.on('notification', () => { notifications++; });
  await server.start();
  return { port: server.address().port };
}

export async function stop(): Promise<void> {
  const s = server;
  server = undefined;
  dtls = undefined;
  if (s) await s.close();
}

function current(): Lwm2mServer {
  if (!server) throw new Error('our server is not started');
  return server;
}

export function count(): { registrations: number; observations: number; dtlsSessions?: number; handshakes?: number } {
  const s = current();
  const st = s.stats();
  const out: ReturnType<typeof count> = { registrations: st.registrations, observations: st.observations };
  if (dtls) {
    const d = dtls.stats();
    out.dtlsSessions = d.sessions;
    out.handshakes = d.handshakesCompleted;
  }
  return out;
}

/** Starts measuring CPU time and notifications of this process. */
export function meterBegin(): void {
  meter = { cpu: process.cpuUsage(), t: process.hrtime.bigint(), notifications };
}

export function meterEnd(): { cpuMs: number; elapsedMs: number; notifications: number } {
  if (!meter) throw new Error('meterBegin first');
  const c = process.cpuUsage(meter.cpu);
  const r = { cpuMs: (c.user + c.system) / 1000, elapsedMs: Number(process.hrtime.bigint() - meter.t) / 1e6, notifications: notifications - meter.notifications };
  meter = undefined;
  return r;
}

export interface LoopResult {
  ok: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  cpuMs: number;
}

/** Endpoint names of the registered devices, optionally only the first `limit`. */
function endpoints(limit?: number): string[] {
  const names: string[] = [];
  for (const r of current().store.all()) {
    names.push(r.endpoint);
    if (limit !== undefined && names.length >= limit) break;
  }
  if (names.length === 0) throw new Error('no registered device');
  return names;
}

/**
 * `window` workers call `server.read(endpoint, path)` on the registered devices round robin until `durationMs` has
 * passed (or `count` reads are done). With a duration, the rate counts the reads completed within it: a read whose
 * datagram was lost and that waits for its retransmission (2 s and more) does not stretch the measured interval.
 */
export async function readLoop(o: { path: string; window: number; durationMs?: number; count?: number; devices?: number }): Promise<LoopResult> {
  const s = current();
  const names = endpoints(o.devices);
  let i = 0;
  let ok = 0;
  let late = 0;
  let errors = 0;
  let firstError: string | undefined;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = o.durationMs !== undefined ? Date.now() + o.durationMs : Infinity;
  const limit = o.count ?? Infinity;
  let started = 0;
  let cpuAtDeadline: NodeJS.CpuUsage | undefined;
  let tEnd: bigint | undefined;
  const worker = async (): Promise<void> => {
    while (started < limit && Date.now() < deadline) {
      started++;
      const ep = names[i++ % names.length];
      try {
        await s.read(ep, o.path);
        if (Date.now() <= deadline) ok++; else late++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
    // the first worker to stop marks the end of the measured interval
    if (tEnd === undefined) {
      tEnd = process.hrtime.bigint();
      cpuAtDeadline = process.cpuUsage(c0);
    }
  };
  await Promise.all(Array.from({ length: o.window }, worker));
  if (o.durationMs === undefined) {
    ok += late;
    tEnd = process.hrtime.bigint();
    cpuAtDeadline = process.cpuUsage(c0);
  }
  const c = cpuAtDeadline!;
  return { ok, errors, firstError, elapsedMs: Number(tEnd! - t0) / 1e6, cpuMs: (c.user + c.system) / 1000 };
}

/** Observes `path` on every registered device (at most `devices`), `window` at a time. */
export async function observeAll(o: { path: string; window: number; devices?: number }): Promise<LoopResult> {
  const s = current();
  const names = endpoints(o.devices);
  let i = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (i < names.length) {
      const ep = names[i++];
      try {
        await s.observe(ep, o.path);
        ok++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: o.window }, worker));
  const c = process.cpuUsage(c0);
  return { ok, errors, firstError, elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (c.user + c.system) / 1000 };
}

// ------------------------------------------------------------------------------------------------ memory

/**
 * A socket that is not one: datagrams are handed to the CoAP endpoint in-process, with the source addresses of a real
 * fleet (every device its own address), and answers are only counted. Used to register a million devices without a
 * million sockets: the endpoint, the server and the store run exactly as they do on UDP.
 */
class InjectedSocket extends EventEmitter implements DatagramSocket {
  answers = 0;
  created = 0;
  send(msg: Buffer, _port: number, _address: string, callback?: (err: Error | null) => void): void {
    this.answers++;
    if (msg[1] === 0x41) this.created++; // 2.01 Created
    if (callback) process.nextTick(callback, null);
  }
  close(callback?: () => void): void {
    if (callback) process.nextTick(callback);
    this.emit('close');
  }
  address(): { address: string; port: number; family: string } {
    return { address: '127.0.0.1', port: 5683, family: 'IPv4' };
  }
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run the worker with --expose-gc');
  g(); g();
}

export interface MemoryResult {
  n: number;
  registered: number;
  heapPerRegistration: number;
  rssPerRegistration: number;
  heapUsedBefore: number;
  heapUsedAfter: number;
  rssBefore: number;
  rssAfter: number;
  elapsedMs: number;
  timersBefore: number;
  timersAfter: number;
  dedupEntries: number;
  expiryEntries: number;
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
}

/**
 * Registers `n` devices through an {@link InjectedSocket} (device i at 10.x.y.z, its own address) with the server's
 * real CoAP endpoint, then measures heap and RSS per registration after a full GC.
 */
export async function memoryInject(o: { n: number; coap?: Record<string, unknown>; batch?: number }): Promise<MemoryResult> {
  await stop();
  const sock = new InjectedSocket();
  const endpoint = new UdpCoapEndpoint(sock, o.coap ?? {});
  const s = new Lwm2mServer({ listen: false, endpoints: [endpoint] });
  await s.start();
  server = s;
  const tpl = new RegisterTemplate('mem-', 7);
  const batch = o.batch ?? 2000;
  // Warm up code paths and allocate the fixed structures before the baseline.
  await new Promise((r) => setImmediate(r));
  gc();
  const timersBefore = timers();
  const m0 = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < o.n; i += batch) {
    const end = Math.min(o.n, i + batch);
    for (let k = i; k < end; k++) {
      const rinfo: Peer & { size: number } = {
        address: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`, port: 40000 + ((k >> 24) & 255), family: 'IPv4', size: 0,
      };
      const msg = tpl.make(k, k & 0xffff);
      rinfo.size = msg.length;
      sock.emit('message', msg, rinfo);
    }
    await new Promise((r) => setImmediate(r));
  }
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const m1 = process.memoryUsage();
  const st = s.stats();
  const registered = st.registrations;
  return {
    n: o.n,
    registered,
    heapPerRegistration: (m1.heapUsed - m0.heapUsed) / registered,
    rssPerRegistration: (m1.rss - m0.rss) / registered,
    heapUsedBefore: m0.heapUsed,
    heapUsedAfter: m1.heapUsed,
    rssBefore: m0.rss,
    rssAfter: m1.rss,
    elapsedMs,
    timersBefore,
    timersAfter: timers(),
    dedupEntries: endpoint.stats().dedupEntries,
    expiryEntries: st.expiryEntries,
  };
}
