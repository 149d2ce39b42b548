import { EventEmitter } from 'events';
import { randomBytes } from 'crypto';
import { CancelledError, DecodeError, Lwm2mError, TimeoutError } from '../errors';
import {
  CoapEndpoint, CoapRequest, CoapResponse, OutgoingRequest, Peer, ReceivedResponse, RequestOptions,
} from '../coap/types';
import { createUdpEndpoint, peerKeyOf, UdpCoapEndpointOptions } from '../coap/endpoint';
import { PeerQueueFullError } from '../coap/errors';
import { decode, hasCodec, getCodec } from '../content/index';
import { parseRegistrationLinks } from '../content/link';
import { recordsToPathMap, recordsToTree, TreeNode } from '../content/tree';
import { Lwm2mRecord, Lwm2mValue } from '../content/values';
import { ContentFormat } from '../content/formats';
import { Lwm2mPath } from '../model/path';
import { ObjectRegistry } from '../model/types';
import { ModelRegistry } from '../model/registry';
import { DeadlineQueue } from './deadline-queue';
import { InvalidArgumentError, ServerStateError, UnknownEndpointError, UnknownObservationError } from './errors';
import { Observation, tokenHex } from './observation';
import { RequestQueue } from './queue';
import {
  compactObjects, internCt, LifetimeBounds, parseRegisterQuery, parseUpdateQuery, queueModeAfterUpdate, Registration,
  RegistrationRejection, snapshotRegistration,
} from './registration';
import { checkRegisterSecurity, SecurityStore } from './security-store';
import { MemoryRegistrationStore, RegistrationStore } from './store';
import { FileRegistrationStore } from './file-store';
import { OperationOptions, RequestContext } from './requests/context';
import { read, ReadResult } from './requests/read';
import { write, WriteOptions, WriteResult } from './requests/write';
import { execute, ExecuteArgs, ExecuteResult } from './requests/execute';
import { create, CreateResult } from './requests/create';
import { deleteInstance, DeleteResult } from './requests/delete';
import { discover, DiscoverResult } from './requests/discover';
import { NotificationAttributes, writeAttributes, WriteAttributesResult } from './requests/write-attributes';
import { CompositeReadResult, readComposite } from './requests/read-composite';
import { CompositeWriteResult, writeComposite } from './requests/write-composite';
import { observe, ObserveAnswer } from './requests/observe';
import { observeComposite } from './requests/observe-composite';
import { cancelObserveActive } from './requests/cancel-observe';
import { FormatPreferences } from './requests/negotiate';
import { IncomingOperation, IncomingTraffic, NotificationTraffic, OutgoingOperation, OutgoingTraffic, shortError, TrafficEvent } from './traffic';

/** A CoAP endpoint the server listens on, with how devices reaching it are secured. */
export interface EndpointEntry {
  endpoint: CoapEndpoint;
  /** True for a DTLS endpoint (its requests carry `peer.identity`). */
  secure?: boolean;
  /** Name stored in registrations (default `coap` for the server's own UDP endpoint, `coaps` for the first secure one). */
  name?: string;
}

export interface Lwm2mServerOptions {
  /**
   * Preferred content format per endpoint (`{ 'dev-1': 11543 }`), tried first for the requests it can carry; the usual
   * negotiation follows. For devices that handle an announced format badly (1.0 devices dropping TLV requests).
   * Changed at run time with {@link Lwm2mServer.setPreferredFormat}.
   */
  preferredFormats?: Readonly<Record<string, number>>;
  /** Address of the UDP endpoint the server creates (default `::`, which also takes IPv4 on dual-stack hosts; falls back to `0.0.0.0`). */
  address?: string;
  /** UDP port (default 5683; 0 picks a free one). */
  port?: number;
  /** Create the server's own UDP endpoint (default true); false to use only `endpoints`. */
  listen?: boolean;
  /** Transport options for the server's own UDP endpoint (timeouts, retransmission...). */
  coap?: UdpCoapEndpointOptions;
  /** More endpoints (e.g. DTLS on 5684). They are closed with the server. */
  endpoints?: Array<CoapEndpoint | EndpointEntry>;
  /** Object definitions (default: the built-in objects). */
  registry?: ObjectRegistry;
  /** Where registrations and observations live (default: in memory). */
  store?: RegistrationStore;
  /** Device credentials; with it, devices that have credentials must register over DTLS with their identity. */
  securityStore?: SecurityStore;
  /** Smallest lifetime accepted, in s (default 1). */
  minLifetime?: number;
  /** Largest lifetime accepted, in s (default 2^32-1). */
  maxLifetime?: number;
  /** Lifetime when a Register has no `lt` (default 86400 s, Core 1.1 6.2.1). */
  defaultLifetime?: number;
  /** Extra time after the lifetime before a registration is removed (default 2000 ms). */
  expiryGraceMs?: number;
  /** Queue mode: how long a device is considered awake after its last message (default 93,000 ms, CoAP MAX_TRANSMIT_WAIT). */
  queueAwakeMs?: number;
  /** Queue mode: max requests waiting per sleeping device (default 20). */
  maxQueuedPerDevice?: number;
  /** Queue mode: default deadline of a queued request (default 3,600,000 ms). */
  queueTimeoutMs?: number;
  /** Default timeout of a request to a device, in ms (default: the transport's). */
  requestTimeoutMs?: number;
  /**
   * NSTART (RFC 7252 4.7) of the server's own UDP endpoint: most requests outstanding to one device at once (default 1;
   * same as `coap.nstart`, which it overrides). Further requests wait in order, at most `maxQueuedPerPeer` per device.
   */
  nstart?: number;
  /**
   * Most requests waiting per awake device behind its `nstart` outstanding ones (default 1000; same as
   * `coap.maxQueuedPerPeer`, which it overrides); more reject with PeerQueueFullError. Requests for a sleeping
   * queue-mode device are bounded by `maxQueuedPerDevice` before they reach the transport.
   */
  maxQueuedPerPeer?: number;
}

/**
 * What an Update changed: new values of the changed fields. A field the Update added appears only here, a field it
 * removed (a `ct` list no longer announced) only in `previous`: no key holds undefined.
 */
export type RegistrationChanges = Partial<Pick<Registration,
  'lifetime' | 'binding' | 'queueMode' | 'sms' | 'address' | 'port' | 'family' | 'transport' | 'objectLinks' | 'rootPath' | 'ct' | 'attributes'>>;

export interface NotificationEvent {
  registration: Registration;
  observation: Observation;
  /** Typed value: a tree for Observe (like a Read), a path map for Observe-Composite. */
  value: TreeNode | { [path: string]: Lwm2mValue } | undefined;
  records: Lwm2mRecord[];
  format: number;
  /** Observe sequence number of the notification. */
  sequence?: number;
}

export interface SendEvent {
  registration: Registration;
  /** `{ '/3303/0/5700': 21.5, ... }` (latest value per path). */
  value: { [path: string]: Lwm2mValue };
  /** All records, with their timestamps when the device sent some. */
  records: Lwm2mRecord[];
  format: number;
}

export interface SecurityViolationEvent {
  endpoint?: string;
  identity?: string;
  address: string;
  port: number;
  reason: string;
}

export interface ObservationCancelledEvent {
  registration: Registration;
  observation: Observation;
  reason: string;
}

/**
 * Registration events carry a snapshot of the registration as the event left it ({@link snapshotRegistration}): a later
 * Update does not show through an earlier event, and changing the object does not change the store.
 */
export interface Lwm2mServerEvents {
  /** `info.replaced`: the registration of the same endpoint this one replaced (only when there was one). */
  registered: (registration: Registration, info: { replaced?: Registration }) => void;
  updated: (registration: Registration, changes: RegistrationChanges, previous: RegistrationChanges) => void;
  deregistered: (registration: Registration) => void;
  expired: (registration: Registration) => void;
  sleeping: (registration: Registration) => void;
  awake: (registration: Registration) => void;
  notification: (event: NotificationEvent) => void;
  send: (event: SendEvent) => void;
  securityViolation: (event: SecurityViolationEvent) => void;
  observationCancelled: (event: ObservationCancelledEvent) => void;
  /** Something went wrong that is not the caller's: a store write failed, a notification could not be decoded... */
  warning: (err: Error) => void;
  /**
   * One exchange with a device (traffic.ts): a request to it when it ends, a request from it (Register, Update,
   * De-register, Send) once answered, a notification. Built only while this event has listeners.
   */
  traffic: (event: TrafficEvent) => void;
}

/** An established observation and the first value. */
export interface ObserveResult extends Observation {
  value: ObserveAnswer['value'];
  records: Lwm2mRecord[];
  format: number;
  code: string;
}

export interface ObserveOptions extends OperationOptions {
  /** Use Observe-Composite even for a single path. */
  composite?: boolean;
  /** Label stored in the observation (e.g. the id of the Node-RED node that asked), so its owner finds it again. */
  owner?: string;
}

export interface CancelObservationOptions extends OperationOptions {
  /** Active cancel (GET/FETCH with Observe 1) instead of passive (forget, then RST the next notification). */
  active?: boolean;
}

export interface ServerStats {
  registrations: number;
  observations: number;
  expiryEntries: number;
  queue: { devices: number; queued: number; timers: number };
  /** `traffic` events built since the server was created (0 while nobody listens to them). */
  trafficEvents: number;
  /** Per endpoint, the transport's own counters when it has a `stats()` (UdpCoapEndpoint does). */
  transports: Record<string, Record<string, number> | undefined>;
}

interface Transport {
  name: string;
  endpoint: CoapEndpoint;
  secure: boolean;
}

/** Receive / send buffer asked for the server's UDP socket (the kernel caps it at net.core.rmem_max / wmem_max). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

const DEFAULTS = {
  port: 5683,
  minLifetime: 1,
  maxLifetime: 0xffffffff,
  defaultLifetime: 86400,
  expiryGraceMs: 2000,
  queueAwakeMs: 93_000,
  maxQueuedPerDevice: 20,
  queueTimeoutMs: 3_600_000,
};

function reply(code: string, reason?: string): CoapResponse {
  return reason ? { code, payload: Buffer.from(reason, 'utf8') } : { code };
}

function familyOf(peer: Peer): 'IPv4' | 'IPv6' {
  if (peer.family === 'IPv4' || peer.family === 'IPv6') return peer.family;
  return peer.address.includes(':') ? 'IPv6' : 'IPv4';
}

function isEntry(e: CoapEndpoint | EndpointEntry): e is EndpointEntry {
  const x = (e as EndpointEntry).endpoint;
  return typeof x === 'object' && x !== null && typeof x.request === 'function';
}

function sameArray(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x === b[i]);
}

export interface Lwm2mServer {
  on<E extends keyof Lwm2mServerEvents>(event: E, listener: Lwm2mServerEvents[E]): this;
  once<E extends keyof Lwm2mServerEvents>(event: E, listener: Lwm2mServerEvents[E]): this;
  off<E extends keyof Lwm2mServerEvents>(event: E, listener: Lwm2mServerEvents[E]): this;
  emit<E extends keyof Lwm2mServerEvents>(event: E, ...args: Parameters<Lwm2mServerEvents[E]>): boolean;
}

/**
 * The LwM2M server (OMA TS Core 1.1 / 1.2: Client Registration, Device Management and Information Reporting
 * interfaces). Devices register on `/rd`; the application talks to them by endpoint name:
 *
 * ```ts
 * const server = new Lwm2mServer({ port: 5683 });
 * server.on('registered', (reg) => server.read(reg.endpoint, '/3/0').then((r) => console.log(r.value)));
 * await server.start();
 * ```
 */
export class Lwm2mServer extends EventEmitter {
  readonly registry: ObjectRegistry;
  readonly store: RegistrationStore;
  readonly securityStore: SecurityStore | undefined;
  private readonly opts: Lwm2mServerOptions;
  private readonly bounds: LifetimeBounds;
  private readonly expiryGraceMs: number;
  private readonly requestTimeoutMs: number | undefined;
  private readonly transports = new Map<string, Transport>();
  private readonly pendingEndpoints: EndpointEntry[] = [];
  private mainTransport: Transport | undefined;
  private expiry: DeadlineQueue<string>;
  private queue: RequestQueue;
  private state: 'new' | 'starting' | 'started' | 'closing' | 'closed' = 'new';
  private trafficEvents = 0;
  private readonly formatPreferences: FormatPreferences;

  constructor(opts: Lwm2mServerOptions = {}) {
    super();
    this.opts = opts;
    this.registry = opts.registry ?? ModelRegistry.withBuiltins();
    this.store = opts.store ?? new MemoryRegistrationStore();
    this.securityStore = opts.securityStore;
    this.formatPreferences = new FormatPreferences(opts.preferredFormats);
    this.bounds = {
      minLifetime: opts.minLifetime ?? DEFAULTS.minLifetime,
      maxLifetime: opts.maxLifetime ?? DEFAULTS.maxLifetime,
      defaultLifetime: opts.defaultLifetime ?? DEFAULTS.defaultLifetime,
    };
    this.expiryGraceMs = opts.expiryGraceMs ?? DEFAULTS.expiryGraceMs;
    this.requestTimeoutMs = opts.requestTimeoutMs;
    this.expiry = new DeadlineQueue<string>((id, now) => this.expiryDue(id, now));
    this.queue = this.newQueue();
    for (const e of opts.endpoints ?? []) {
      const entry: EndpointEntry = isEntry(e) ? { ...e } : { endpoint: e };
      entry.name = this.nameFor(entry);
      this.pendingEndpoints.push(entry);
    }
  }

  private newQueue(): RequestQueue {
    return new RequestQueue({
      awakeMs: this.opts.queueAwakeMs ?? DEFAULTS.queueAwakeMs,
      maxQueued: this.opts.maxQueuedPerDevice ?? DEFAULTS.maxQueuedPerDevice,
      deadlineMs: this.opts.queueTimeoutMs ?? DEFAULTS.queueTimeoutMs,
      onSleeping: (ep) => {
        const reg = this.store.getByEndpoint(ep);
        if (reg) this.safeEmit('sleeping', reg);
      },
      onAwake: (ep) => {
        const reg = this.store.getByEndpoint(ep);
        if (reg) this.safeEmit('awake', reg);
      },
    });
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /** Opens the store, binds the UDP endpoint and starts serving. Restored registrations get their expiry back. */
  /** The start in progress, so that a close() arriving meanwhile waits for the socket to be bound and then frees it. */
  private starting: Promise<void> | undefined;

  start(): Promise<void> {
    if (this.state === 'started') return Promise.resolve();
    if (this.state === 'starting' && this.starting) return this.starting;
    if (this.state !== 'new') return Promise.reject(new ServerStateError(`cannot start a server that is ${this.state}`));
    this.state = 'starting';
    this.starting = this.doStart().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    try {
      if (this.store instanceof FileRegistrationStore && this.store.onError === undefined) {
        this.store.onError = (err) => this.warn(err);
      }
      await this.store.open?.();
      if (this.opts.listen !== false) {
        const endpoint = await this.bindUdp();
        const main: Transport = { name: 'coap', endpoint, secure: false };
        this.mainTransport = main;
        this.attachTransport(main);
      }
      for (const e of this.pendingEndpoints.splice(0)) this.attach(e);
      const now = Date.now();
      for (const reg of this.store.all()) {
        this.expiry.push(reg.expiresAt + this.expiryGraceMs, reg.id);
        if (reg.queueMode) this.queue.track(reg.endpoint);
      }
      this.expiryDueAll(now);
      this.state = 'started';
    } catch (err) {
      this.state = 'new';
      for (const t of this.transports.values()) await t.endpoint.close().catch(() => undefined);
      this.transports.clear();
      this.mainTransport = undefined;
      await Promise.resolve(this.store.close?.()).catch(() => undefined);
      throw err;
    }
  }

  private async bindUdp(): Promise<CoapEndpoint> {
    const port = this.opts.port ?? DEFAULTS.port;
    const address = this.opts.address ?? '::';
    const type = address.includes(':') ? 'udp6' : 'udp4';
    // One socket serves the whole fleet: a registration storm arrives faster than it is handled, and what does not fit
    // in the socket's receive buffer is dropped by the kernel and comes back only with the device's retransmission
    // (RFC 7252 4.2: 2 to 3 s, then doubling). Linux's default (net.core.rmem_default, 208 KiB) holds ~160 Register
    // datagrams; ask for 4 MiB (the kernel caps it at net.core.rmem_max: see the README).
    const coap = { recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES, ...(this.opts.coap ?? {}) };
    if (this.opts.nstart !== undefined) coap.nstart = this.opts.nstart;
    if (this.opts.maxQueuedPerPeer !== undefined) coap.maxQueuedPerPeer = this.opts.maxQueuedPerPeer;
    try {
      return await createUdpEndpoint({ ...coap, address, port, type });
    } catch (err) {
      const code = ((err as { cause?: { code?: string } }).cause)?.code;
      if (this.opts.address !== undefined || code === 'EADDRINUSE' || code === 'EACCES') throw err;
      // No IPv6 on this host: serve IPv4 only.
      return createUdpEndpoint({ ...coap, address: '0.0.0.0', port, type: 'udp4' });
    }
  }

  /**
   * Adds an endpoint (e.g. the DTLS one on 5684: `server.addEndpoint(dtlsEndpoint, { secure: true })`). Requests to a
   * device go out through the endpoint it registered on. The server closes it when it closes.
   */
  addEndpoint(endpoint: CoapEndpoint, opts: { secure?: boolean; name?: string } = {}): string {
    const entry: EndpointEntry = { endpoint, secure: opts.secure, name: opts.name };
    if (this.state === 'started') return this.attach(entry).name;
    if (this.state !== 'new' && this.state !== 'starting') throw new ServerStateError(`cannot add an endpoint to a server that is ${this.state}`);
    entry.name = this.nameFor(entry, this.pendingEndpoints.length);
    this.pendingEndpoints.push(entry);
    return entry.name;
  }

  private nameFor(e: EndpointEntry, extra = 0): string {
    if (e.name) return e.name;
    const base = e.secure ? 'coaps' : 'coap';
    let name = base;
    let n = 1 + extra;
    // 'coap' is the name of the server's own UDP endpoint
    const reserved = this.opts.listen !== false && !this.mainTransport ? 'coap' : undefined;
    const taken = (x: string): boolean => x === reserved || this.transports.has(x) || this.pendingEndpoints.some((p) => p !== e && p.name === x);
    while (taken(name)) name = `${base}${++n}`;
    return name;
  }

  private attach(e: EndpointEntry): Transport {
    const t: Transport = { name: this.nameFor(e), endpoint: e.endpoint, secure: e.secure === true };
    this.attachTransport(t);
    return t;
  }

  private attachTransport(t: Transport): void {
    if (this.transports.has(t.name)) throw new ServerStateError(`an endpoint named ${t.name} is already attached`);
    this.transports.set(t.name, t);
    t.endpoint.setRequestHandler((req) => this.handleRequest(req, t));
    t.endpoint.setNotificationHandler((token, res) => this.handleNotification(tokenHex(token), res));
  }

  /** Address of the server's own UDP endpoint. */
  address(): { address: string; port: number; family: string } {
    const t = this.mainTransport ?? this.transports.values().next().value;
    if (!t) throw new ServerStateError('server is not started');
    return t.endpoint.address();
  }

  /** Names of the attached endpoints and their addresses. */
  endpoints(): Array<{ name: string; secure: boolean; address: { address: string; port: number; family: string } }> {
    return [...this.transports.values()].map((t) => ({ name: t.name, secure: t.secure, address: t.endpoint.address() }));
  }

  /**
   * Stops serving: rejects queued requests (CancelledError), stops every timer, closes every endpoint (sockets are
   * released: another server can bind the port right after) and closes the store (the file store writes what is
   * pending). Registrations stay in the store.
   */
  async close(): Promise<void> {
    // Closed while binding: let the bind settle, then release what it opened (no socket left bound).
    if (this.starting) await this.starting.catch(() => undefined);
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    this.expiry.close();
    this.queue.close();
    const closing = [...this.transports.values()].map((t) => t.endpoint.close().catch(() => undefined));
    for (const e of this.pendingEndpoints.splice(0)) closing.push(e.endpoint.close().catch(() => undefined));
    await Promise.all(closing);
    this.transports.clear();
    this.mainTransport = undefined;
    try {
      await this.store.close?.();
    } finally {
      this.state = 'closed';
    }
  }

  stats(): ServerStats {
    return {
      registrations: this.store.size,
      observations: this.store.observationCount,
      expiryEntries: this.expiry.size,
      queue: this.queue.stats(),
      trafficEvents: this.trafficEvents,
      transports: Object.fromEntries([...this.transports.values()].map((t) => {
        const ep = t.endpoint as CoapEndpoint & { stats?: () => object };
        return [t.name, typeof ep.stats === 'function' ? { ...ep.stats() } as Record<string, number> : undefined];
      })),
    };
  }

  // ------------------------------------------------------------------------------------------------ registrations

  /** Every registration (a copy of the list; see {@link registrationCount} for just the number). */
  registrations(): Registration[] {
    return [...this.store.all()];
  }

  /** Number of registered devices (cheap, for status displays). */
  registrationCount(): number {
    return this.store.size;
  }

  getRegistration(endpoint: string): Registration | undefined {
    return this.store.getByEndpoint(endpoint);
  }

  /** True when a queue-mode device is currently considered awake (always true for other registered devices). */
  isAwake(endpoint: string): boolean {
    const reg = this.store.getByEndpoint(endpoint);
    if (!reg) return false;
    return !reg.queueMode || this.queue.isAwake(endpoint);
  }

  /** Requests waiting for a sleeping device. */
  queuedRequests(endpoint: string): number {
    return this.queue.queued(endpoint);
  }

  /**
   * Emits without letting a listener's exception unwind into the transport or a timer: the exception is rethrown on the
   * next tick (where it surfaces like any listener error would).
   */
  private safeEmit<E extends keyof Lwm2mServerEvents>(event: E, ...args: Parameters<Lwm2mServerEvents[E]>): void {
    try {
      this.emit(event, ...args);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  private later(fn: () => void): void {
    // Events go out after the answer to the device's request has been sent.
    setImmediate(() => {
      try {
        fn();
      } catch (err) {
        // a listener's error must not break the server; report it on the next tick like EventEmitter would
        process.nextTick(() => {
          throw err;
        });
      }
    });
  }

  private securityViolation(req: CoapRequest, reason: string, endpoint?: string): CoapResponse {
    const ev: SecurityViolationEvent = { endpoint, identity: req.peer.identity, address: req.peer.address, port: req.peer.port, reason };
    this.later(() => this.emit('securityViolation', ev));
    return reply('4.03', reason);
  }

  private handleRequest(req: CoapRequest, t: Transport): CoapResponse {
    if (this.listenerCount('traffic') === 0) return this.dispatch(req, t);
    // Who is talking is looked up before the request is handled (a De-register removes the registration).
    const p = req.path;
    let endpoint: string | undefined;
    let operation: IncomingOperation | undefined;
    if (p[0] === 'rd' && p.length === 1) {
      const ep = req.query.find((q) => q.startsWith('ep='));
      endpoint = ep === undefined ? undefined : ep.slice(3);
      if (req.method === 'POST') operation = 'register';
    } else if (p[0] === 'rd' && p.length === 2) {
      endpoint = this.store.getById(p[1])?.endpoint;
      operation = req.method === 'POST' ? 'update' : req.method === 'DELETE' ? 'deregister' : undefined;
    } else if (p.length === 1 && p[0] === 'dp') {
      endpoint = this.store.getByAddress(req.peer.address, req.peer.port, t.name)?.endpoint;
      if (req.method === 'POST') operation = 'send';
    }
    const res = this.dispatch(req, t);
    const ev: IncomingTraffic = {
      kind: 'request', direction: 'in', endpoint, operation, method: req.method, path: '/' + p.join('/'),
      format: req.contentFormat, size: req.payload.length, code: res.code, answerSize: res.payload?.length ?? 0,
      address: req.peer.address, port: req.peer.port, time: Date.now(),
    };
    if (req.query.length > 0) ev.query = req.query;
    this.trafficEvents++;
    // After the event the request caused ('registered'...), which was scheduled first.
    this.later(() => this.emit('traffic', ev));
    return res;
  }

  private dispatch(req: CoapRequest, t: Transport): CoapResponse {
    if (this.state !== 'started') return reply('5.03', 'server is not running');
    const p = req.path;
    try {
      if (p[0] === 'rd') {
        if (p.length === 1) return req.method === 'POST' ? this.onRegister(req, t) : reply('4.05');
        if (p.length === 2) {
          if (req.method === 'POST') return this.onUpdate(req, t, p[1]);
          if (req.method === 'DELETE') return this.onDeregister(req, p[1]);
          return reply('4.05');
        }
        return reply('4.04');
      }
      if (p.length === 1 && p[0] === 'dp') return req.method === 'POST' ? this.onSend(req, t) : reply('4.05');
      return reply('4.04');
    } catch (err) {
      this.warn(err);
      return reply('5.00', 'internal error');
    }
  }

  private warn(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('warning') > 0) this.safeEmit('warning', e);
  }

  /**
   * Random bytes for registration ids, drawn 3 KiB at a time: `randomBytes(6)` costs ~5.5 µs per call (a CSPRNG call
   * each), ~13% of the server's CPU in a registration storm; from a pool it is ~0.4 µs.
   */
  private idPool: Buffer = Buffer.alloc(0);
  private idPos = 0;

  private newId(): string {
    for (;;) {
      if (this.idPos + 6 > this.idPool.length) {
        this.idPool = randomBytes(3072);
        this.idPos = 0;
      }
      const id = this.idPool.toString('base64url', this.idPos, this.idPos + 6);
      this.idPos += 6;
      if (!this.store.getById(id)) return id;
    }
  }

  private parseLinks(payload: Buffer): ReturnType<typeof parseRegistrationLinks> | RegistrationRejection {
    if (payload.length === 0) return new RegistrationRejection('4.00', 'empty payload: the object list is mandatory');
    try {
      const links = parseRegistrationLinks(payload);
      if (links.objects.length === 0) return new RegistrationRejection('4.00', 'no object or object instance link in the payload');
      return links;
    } catch (err) {
      if (err instanceof Lwm2mError) return new RegistrationRejection('4.00', `bad object list: ${err.message}`);
      throw err;
    }
  }

  /** Register (Core 1.1 6.2.1): `POST /rd?ep=..` with the object list; 2.01 Created with Location-Path rd/<id>. */
  private onRegister(req: CoapRequest, t: Transport): CoapResponse {
    if (req.contentFormat !== undefined && req.contentFormat !== ContentFormat.LINK) {
      return reply('4.15', 'the object list must be application/link-format (40)');
    }
    const params = parseRegisterQuery(req.query, this.bounds);
    if (params instanceof RegistrationRejection) return reply(params.code, params.reason);
    const links = this.parseLinks(req.payload);
    if (links instanceof RegistrationRejection) return reply(links.code, links.reason);

    const sec = checkRegisterSecurity(this.securityStore, params.endpoint, req.peer.identity);
    if (!sec.ok) return this.securityViolation(req, sec.reason, params.endpoint);

    const now = Date.now();
    const reg: Registration = {
      id: this.newId(),
      endpoint: params.endpoint,
      version: params.version,
      lifetime: params.lifetime,
      binding: params.binding,
      queueMode: params.queueMode,
      address: req.peer.address,
      port: req.peer.port,
      family: familyOf(req.peer),
      transport: t.name,
      secure: t.secure || req.peer.identity !== undefined,
      security: sec.mode,
      rootPath: links.rootPath,
      objectLinks: compactObjects(links.objects),
      registeredAt: now,
      lastUpdateAt: now,
      expiresAt: now + params.lifetime * 1000,
    };
    if (params.sms !== undefined) reg.sms = params.sms;
    if (sec.identity !== undefined) reg.identity = sec.identity;
    if (links.ct !== undefined) reg.ct = internCt(links.ct);
    if (params.attributes) reg.attributes = params.attributes;

    const replaced = this.store.add(reg);
    if (replaced) this.dropObservations(replaced.registration, replaced.observations);
    this.expiry.push(reg.expiresAt + this.expiryGraceMs, reg.id);
    if (reg.queueMode || this.queue.queued(reg.endpoint) > 0) this.queue.touch(reg.endpoint);
    else this.queue.cancel(reg.endpoint, 'device registered again');
    const info: { replaced?: Registration } = replaced ? { replaced: replaced.registration } : {};
    const snapshot = this.eventSnapshot('registered', reg);
    this.later(() => this.emit('registered', snapshot ?? this.lateSnapshot('registered', reg), info));
    return { code: '2.01', locationPath: ['rd', reg.id] };
  }

  /**
   * The registration as an event shows it, taken when the Register / Update is handled (the event goes out a moment
   * later, possibly after the next Update). Only while someone listens: a server nobody watches copies nothing.
   */
  private eventSnapshot(event: 'registered' | 'updated', reg: Registration): Registration | undefined {
    return this.listenerCount(event) > 0 ? snapshotRegistration(reg) : undefined;
  }

  /** For a listener that arrived between the request and its event: a copy still, never the stored object. */
  private lateSnapshot(event: 'registered' | 'updated', reg: Registration): Registration {
    return this.listenerCount(event) > 0 ? snapshotRegistration(reg) : reg;
  }

  private sameSecurity(reg: Registration, peer: Peer): boolean {
    return reg.identity === peer.identity;
  }

  /** Update (Core 1.1 6.2.2): `POST /rd/<id>?lt=..&b=..` with an optional new object list; 2.04 Changed. */
  private onUpdate(req: CoapRequest, t: Transport, id: string): CoapResponse {
    const reg = this.store.getById(id);
    if (!reg) return reply('4.04', 'unknown registration');
    if (!this.sameSecurity(reg, req.peer)) {
      return this.securityViolation(req, `Update of ${reg.endpoint} from another security context`, reg.endpoint);
    }
    const params = parseUpdateQuery(req.query, reg.version, this.bounds);
    if (params instanceof RegistrationRejection) return reply(params.code, params.reason);
    let links: ReturnType<typeof parseRegistrationLinks> | undefined;
    if (req.payload.length > 0) {
      if (req.contentFormat !== undefined && req.contentFormat !== ContentFormat.LINK) {
        return reply('4.15', 'the object list must be application/link-format (40)');
      }
      const l = this.parseLinks(req.payload);
      if (l instanceof RegistrationRejection) return reply(l.code, l.reason);
      links = l;
    }
    const now = Date.now();
    const next: RegistrationChanges = {
      lifetime: params.lifetime ?? reg.lifetime,
      binding: params.binding ?? reg.binding,
      queueMode: queueModeAfterUpdate(reg, params.binding),
      sms: params.sms ?? reg.sms,
      address: req.peer.address,
      port: req.peer.port,
      family: familyOf(req.peer),
      transport: t.name,
      attributes: params.attributes ? { ...reg.attributes, ...params.attributes } : reg.attributes,
    };
    if (links) {
      next.objectLinks = compactObjects(links.objects);
      next.rootPath = links.rootPath;
      next.ct = links.ct === undefined ? undefined : internCt(links.ct);
    }
    const changes: RegistrationChanges = {};
    const previous: RegistrationChanges = {};
    for (const k of Object.keys(next) as Array<keyof RegistrationChanges>) {
      const a = reg[k];
      const b = next[k];
      const same = k === 'ct' ? sameArray(a as number[] | undefined, b as number[] | undefined)
        : k === 'attributes' ? JSON.stringify(a) === JSON.stringify(b) : a === b;
      if (!same) {
        if (b !== undefined) (changes as Record<string, unknown>)[k] = b;
        if (a !== undefined) (previous as Record<string, unknown>)[k] = a;
      }
    }
    const oldExpiry = reg.expiresAt;
    const patch: Partial<Registration> = { ...changes, lastUpdateAt: now, expiresAt: now + (next.lifetime as number) * 1000 };
    // Only ct can go away (an object list without it); the others keep their value when the Update does not name them.
    const ctRemoved = 'ct' in previous && !('ct' in changes);
    const updated = this.store.update(reg.id, patch);
    if (!updated) return reply('4.04', 'unknown registration');
    if (ctRemoved) delete updated.ct;
    if ((changes.address !== undefined || changes.port !== undefined) && changes.transport === undefined) this.rebindObservations(updated);
    if (updated.expiresAt < oldExpiry) this.expiry.push(updated.expiresAt + this.expiryGraceMs, updated.id);
    if (updated.queueMode) this.queue.touch(updated.endpoint);
    else if (this.queue.queued(updated.endpoint) > 0) this.queue.touch(updated.endpoint);
    // A snapshot: a second Update handled before this event goes out must not show through it.
    const snapshot = this.eventSnapshot('updated', updated);
    this.later(() => this.emit('updated', snapshot ?? this.lateSnapshot('updated', updated), changes, previous));
    return { code: '2.04' };
  }

  /** De-register (Core 1.1 6.2.3): `DELETE /rd/<id>`; 2.02 Deleted. */
  private onDeregister(req: CoapRequest, id: string): CoapResponse {
    const reg = this.store.getById(id);
    if (!reg) return reply('4.04', 'unknown registration');
    if (!this.sameSecurity(reg, req.peer)) {
      return this.securityViolation(req, `De-register of ${reg.endpoint} from another security context`, reg.endpoint);
    }
    const removed = this.store.remove(id);
    if (removed) {
      this.dropObservations(removed.registration, removed.observations);
      this.queue.cancel(reg.endpoint, 'device deregistered');
      this.later(() => this.emit('deregistered', removed.registration));
    }
    return { code: '2.02' };
  }

  /** Send (Core 1.1 section 6.4, Information Reporting interface, "Send" operation): `POST /dp` with SenML or LwM2M CBOR. */
  private onSend(req: CoapRequest, t: Transport): CoapResponse {
    const reg = this.store.getByAddress(req.peer.address, req.peer.port, t.name);
    if (!reg) return reply('4.04', 'no registration for this address: Register first');
    if (!this.sameSecurity(reg, req.peer)) return this.securityViolation(req, `Send for ${reg.endpoint} from another security context`, reg.endpoint);
    const format = req.contentFormat;
    if (format === undefined) return reply('4.00', 'Send needs a Content-Format');
    if (!hasCodec(format) || !getCodec(format).multiPath) {
      return reply('4.15', 'Send takes SenML JSON (110), SenML CBOR (112), LwM2M JSON (11543) or LwM2M CBOR (11544)');
    }
    let records: Lwm2mRecord[];
    try {
      records = decode(format, req.payload, { registry: this.registry, path: Lwm2mPath.ROOT });
    } catch (err) {
      if (err instanceof Lwm2mError) return reply('4.00', err.message.slice(0, 200));
      throw err;
    }
    if (reg.queueMode) this.queue.touch(reg.endpoint);
    const ev: SendEvent = { registration: reg, value: recordsToPathMap(records), records, format };
    this.later(() => this.emit('send', ev));
    return { code: '2.04' };
  }

  private expiryDue(id: string, now: number): void {
    const reg = this.store.getById(id);
    if (!reg) return;
    const due = reg.expiresAt + this.expiryGraceMs;
    if (due > now) {
      this.expiry.push(due, id);
      return;
    }
    const removed = this.store.remove(id);
    if (!removed) return;
    this.dropObservations(removed.registration, removed.observations);
    this.queue.cancel(reg.endpoint, 'registration expired');
    this.safeEmit('expired', removed.registration);
  }

  private expiryDueAll(now: number): void {
    for (const reg of [...this.store.all()]) if (reg.expiresAt + this.expiryGraceMs <= now) this.expiryDue(reg.id, now);
  }

  /**
   * The device updated from a new address (NAT rebinding): its observations keep going, now bound to that address
   * (notifications are accepted only from the registration's address, RFC 7252 5.3.2 / RFC 7641 3.2; the endpoint
   * ignores, without RST, those from elsewhere, so the device still holds them, RFC 7641 3.6).
   */
  private rebindObservations(reg: Registration): void {
    const endpoint = this.transports.get(reg.transport)?.endpoint;
    if (endpoint?.rebindToken === undefined) return;
    const peer: Peer = { address: reg.address, port: reg.port };
    for (const o of this.store.observationsOf(reg.id)) endpoint.rebindToken(Buffer.from(o.token, 'hex'), peer);
  }

  private dropObservations(reg: Registration, observations: Observation[]): void {
    const t = this.transports.get(reg.transport);
    for (const o of observations) t?.endpoint.forgetToken(Buffer.from(o.token, 'hex'));
  }

  // ------------------------------------------------------------------------------------------------ notifications

  /**
   * A notification (RFC 7641 4.2): from the transport's per-token routing of a live observation, or for a token it
   * does not know (after a restart). Returns false when no observation matches (the transport answers RST, which
   * cancels the observation at the device, RFC 7641 3.6), null when it comes from another address than the
   * registration's (ignored, no RST).
   */
  private handleNotification(token: string, res: ReceivedResponse, livePath?: Lwm2mPath): boolean | null {
    const obs = this.store.getObservation(token);
    if (!obs) return false;
    const reg = this.store.getById(obs.registrationId);
    if (!reg) {
      this.store.removeObservation(token);
      return false;
    }
    if (reg.identity !== res.peer.identity) return false;
    // RFC 7252 5.3.2 / RFC 7641 3.2: only from the registration's address (a restored observation, which the transport
    // does not route itself); null: ignored, no RST (the device may be behind a new NAT binding, see rebindObservations).
    if (res.peer.port !== reg.port || peerKeyOf(res.peer.address, res.peer.port) !== peerKeyOf(reg.address, reg.port)) return null;
    if (reg.queueMode) this.queue.touch(reg.endpoint);
    if (!res.code.startsWith('2.')) {
      this.notificationTraffic(reg, obs, res);
      // RFC 7641 3.2: an error notification ends the observation.
      this.store.removeObservation(token);
      this.transports.get(reg.transport)?.endpoint.forgetToken(Buffer.from(token, 'hex'));
      this.safeEmit('observationCancelled', { registration: reg, observation: obs, reason: `device sent ${res.code}` });
      return true;
    }
    // `livePath`: parsed once when the observation started (kept by its routing closure, beside the persistable record).
    const path = obs.composite ? Lwm2mPath.ROOT : livePath ?? Lwm2mPath.parse(obs.paths[0]);
    const format = res.contentFormat ?? obs.format ?? (obs.composite ? ContentFormat.SENML_CBOR : ContentFormat.TLV);
    let records: Lwm2mRecord[];
    try {
      records = decode(format, res.payload, { registry: this.registry, path });
    } catch (err) {
      if (err instanceof Lwm2mError) {
        this.notificationTraffic(reg, obs, res);
        this.warn(new DecodeError(format, `${reg.endpoint} notification for ${obs.paths.join(',')}: ${err.message}`, { cause: err }));
        return true;
      }
      throw err;
    }
    const value = obs.composite ? recordsToPathMap(records) : recordsToTree(path, records);
    this.safeEmit('notification', { registration: reg, observation: obs, value, records, format, sequence: res.observe });
    // After 'notification', so a log can complete the entry it just made.
    this.notificationTraffic(reg, obs, res);
    if (res.observe === undefined) {
      // RFC 7641 3.2: a response without an Observe option ends the observation (the device removed us as observer).
      this.store.removeObservation(token);
      this.transports.get(reg.transport)?.endpoint.forgetToken(Buffer.from(token, 'hex'));
      this.safeEmit('observationCancelled', { registration: reg, observation: obs, reason: 'device ended the observation (no Observe option)' });
    }
    return true;
  }

  private notificationTraffic(reg: Registration, obs: Observation, res: ReceivedResponse): void {
    if (this.listenerCount('traffic') === 0) return;
    const ev: NotificationTraffic = {
      kind: 'notification', direction: 'in', endpoint: reg.endpoint, observationId: obs.id, paths: obs.paths, code: res.code,
      format: res.contentFormat, size: res.payload.length, sequence: res.observe, time: Date.now(),
    };
    this.trafficEvents++;
    this.safeEmit('traffic', ev);
  }

  // ------------------------------------------------------------------------------------------------ device management

  private requireStarted(): void {
    if (this.state !== 'started') throw new ServerStateError(this.state === 'new' ? 'server is not started' : `server is ${this.state}`);
  }

  /**
   * `onSent`: told the registration each request actually went out under (a request queued for a sleeping device
   * leaves under the registration current when the device wakes, which may be a new one after a full Register).
   */
  private context(
    endpoint: string, operation: OutgoingOperation, opts: OperationOptions = {}, onSent?: (reg: Registration) => void,
  ): RequestContext {
    this.requireStarted();
    const registration = this.store.getByEndpoint(endpoint);
    if (!registration) throw new UnknownEndpointError(endpoint);
    return {
      registration,
      registry: this.registry,
      preferredFormat: this.formatPreferences.get(endpoint),
      send: (req, what, ropts) => this.sendToDevice(endpoint, operation, req, what, ropts, opts, onSent),
    };
  }

  private sendToDevice(
    endpoint: string, operation: OutgoingOperation, req: OutgoingRequest, what: string, ropts: RequestOptions | undefined,
    opts: OperationOptions & { queueTimeoutMs?: number }, onSent?: (reg: Registration) => void,
  ): Promise<ReceivedResponse> {
    const reg = this.store.getByEndpoint(endpoint);
    if (!reg) return Promise.reject(new UnknownEndpointError(endpoint));
    let sent = false;
    const run = (): Promise<ReceivedResponse> => {
      const current = this.store.getByEndpoint(endpoint);
      if (!current) return Promise.reject(new CancelledError(`${what} (device deregistered)`));
      sent = true;
      onSent?.(current);
      return this.transmit(current, operation, req, what, ropts, opts.origin);
    };
    if (!reg.queueMode) return run();
    if (this.listenerCount('traffic') === 0) return this.queue.submit(endpoint, what, run, opts.queueTimeoutMs);
    // A request that never leaves the queue (queue timeout, queue full, device gone) is reported too; those that were
    // sent are reported by transmit().
    const queuedAt = performance.now();
    return this.queue.submit(endpoint, what, run, opts.queueTimeoutMs).catch((err: unknown) => {
      if (!sent) this.outgoingTraffic(endpoint, operation, req, queuedAt, undefined, err, what, opts.origin);
      throw err;
    });
  }

  private async transmit(
    reg: Registration, operation: OutgoingOperation, req: OutgoingRequest, what: string, ropts: RequestOptions | undefined,
    origin: string | undefined,
  ): Promise<ReceivedResponse> {
    const t = this.transports.get(reg.transport);
    if (!t) throw new ServerStateError(`${what}: the device registered on endpoint "${reg.transport}", which this server does not have`);
    const rel = typeof req.path === 'string' ? req.path.split('/').filter(Boolean) : req.path;
    const root = reg.rootPath === '/' ? [] : reg.rootPath.split('/').filter(Boolean);
    const peer: Peer = { address: reg.address, port: reg.port, family: reg.family };
    if (reg.identity !== undefined) peer.identity = reg.identity;
    const timeoutMs = req.timeoutMs ?? this.requestTimeoutMs;
    const out: OutgoingRequest = { ...req, path: root.length ? [...root, ...rel] : rel };
    if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
    const startedAt = performance.now();
    let res: ReceivedResponse;
    try {
      res = await t.endpoint.request(peer, out, ropts);
    } catch (err) {
      const e = err instanceof TimeoutError ? new TimeoutError(what, timeoutMs ?? err.timeoutMs)
        : err instanceof PeerQueueFullError ? new PeerQueueFullError(what, err.peer, err.nstart, err.maxQueued) : err;
      this.outgoingTraffic(reg.endpoint, operation, req, startedAt, undefined, e, what, origin);
      throw e;
    }
    if (reg.queueMode) this.queue.touch(reg.endpoint);
    // Emitted before the caller's continuation runs, so a caller that tagged its call (`origin`) sees it first.
    this.outgoingTraffic(reg.endpoint, operation, req, startedAt, res, undefined, what, origin);
    return res;
  }

  private outgoingTraffic(
    endpoint: string, operation: OutgoingOperation, req: OutgoingRequest, startedAt: number, res: ReceivedResponse | undefined,
    err: unknown, what: string, origin: string | undefined,
  ): void {
    if (this.listenerCount('traffic') === 0) return;
    const segs = typeof req.path === 'string' ? req.path.split('/').filter(Boolean) : req.path;
    const ev: OutgoingTraffic = {
      kind: 'request', direction: 'out', endpoint, operation, method: req.method, path: '/' + segs.join('/'),
      size: req.payload?.length ?? 0, durationMs: Math.max(0, performance.now() - startedAt), time: Date.now(),
    };
    if (req.query !== undefined && req.query.length > 0) ev.query = req.query;
    if (req.observe !== undefined) ev.observe = req.observe;
    if (req.accept !== undefined) ev.accept = req.accept;
    if (req.contentFormat !== undefined) ev.format = req.contentFormat;
    if (res) {
      ev.code = res.code;
      if (res.contentFormat !== undefined) ev.answerFormat = res.contentFormat;
      ev.answerSize = res.payload.length;
    } else {
      ev.error = shortError(err, what);
    }
    if (origin !== undefined) ev.origin = origin;
    this.trafficEvents++;
    this.safeEmit('traffic', ev);
  }

  /**
   * Sets the content format tried first for the device's requests (`undefined` clears it); InvalidArgumentError for a
   * format with no codec. Kept per endpoint name, across registrations.
   */
  setPreferredFormat(endpoint: string, format: number | undefined): void {
    this.formatPreferences.set(endpoint, format);
  }

  /** The device's preferred content format, when one is set. */
  getPreferredFormat(endpoint: string): number | undefined {
    return this.formatPreferences.get(endpoint);
  }

  /** Read (GET) a path: `{ value, records, format, code }` (and `undecoded`: records whose value did not decode). */
  read(endpoint: string, path: string | Lwm2mPath, opts?: OperationOptions): Promise<ReadResult> {
    return this.call(() => read(this.context(endpoint, 'read', opts), Lwm2mPath.from(path), opts));
  }

  /** Write a value or a tree: PUT (replace) or POST (partial update, the default for an object instance). */
  write(endpoint: string, path: string | Lwm2mPath, value: unknown, opts?: WriteOptions): Promise<WriteResult> {
    return this.call(() => write(this.context(endpoint, 'write', opts), Lwm2mPath.from(path), value, opts));
  }

  /** Execute a resource, with optional arguments (`0='abc',1` or `{ 0: 'abc', 1: null }`). */
  execute(endpoint: string, path: string | Lwm2mPath, args?: ExecuteArgs, opts?: OperationOptions): Promise<ExecuteResult> {
    return this.call(() => execute(this.context(endpoint, 'execute', opts), Lwm2mPath.from(path), args, opts));
  }

  /** Create an object instance; resolves with its id. */
  create(endpoint: string, objectPath: string | Lwm2mPath | number, values: unknown, instanceId?: number, opts?: OperationOptions): Promise<CreateResult> {
    return this.call(() => create(this.context(endpoint, 'create', opts), Lwm2mPath.from(typeof objectPath === 'number' ? [objectPath] : objectPath), values, instanceId, opts));
  }

  /** Delete an object instance. */
  delete(endpoint: string, path: string | Lwm2mPath, opts?: OperationOptions): Promise<DeleteResult> {
    return this.call(() => deleteInstance(this.context(endpoint, 'delete', opts), Lwm2mPath.from(path), opts));
  }

  /** Discover: the links (paths and attributes) below a path. */
  discover(endpoint: string, path: string | Lwm2mPath, opts?: OperationOptions): Promise<DiscoverResult> {
    return this.call(() => discover(this.context(endpoint, 'discover', opts), Lwm2mPath.from(path), opts));
  }

  /** Write-Attributes: `{ pmin: 10, pmax: 60, gt: null }` (null removes an attribute). */
  writeAttributes(endpoint: string, path: string | Lwm2mPath, attrs: NotificationAttributes, opts?: OperationOptions): Promise<WriteAttributesResult> {
    return this.call(() => writeAttributes(this.context(endpoint, 'write-attributes', opts), Lwm2mPath.from(path), attrs, opts));
  }

  /** Read-Composite (1.1+): `{ value: { '/3/0/0': ..., '/1/0/1': ... } }`. */
  readComposite(endpoint: string, paths: Array<string | Lwm2mPath>, opts?: OperationOptions): Promise<CompositeReadResult> {
    return this.call(() => readComposite(this.context(endpoint, 'read-composite', opts), paths, opts));
  }

  /** Write-Composite (1.1+): `{ '/3/0/14': '+02', '/1/0/1': 300 }`. */
  writeComposite(endpoint: string, valuesByPath: Record<string, unknown>, opts?: OperationOptions): Promise<CompositeWriteResult> {
    return this.call(() => writeComposite(this.context(endpoint, 'write-composite', opts), valuesByPath, opts));
  }

  /**
   * Observe a path (or several: Observe-Composite). Resolves with the observation and the first value; later values
   * arrive as 'notification' events.
   */
  observe(endpoint: string, pathOrPaths: string | Lwm2mPath | Array<string | Lwm2mPath>, opts: ObserveOptions = {}): Promise<ObserveResult> {
    return this.call(async () => {
      const list = Array.isArray(pathOrPaths) ? pathOrPaths : [pathOrPaths];
      const composite = opts.composite === true || list.length !== 1;
      // The registration the Observe went out under: the device answers for that one. For a sleeping queue-mode device
      // the request waits in the queue, and the device may wake with a full Register rather than an Update (Core 1.1
      // 6.2.1: a new registration, the old one and its observations are gone); the queued Observe then leaves under
      // the new registration, and the observation the device accepts belongs to it.
      let sentUnder: Registration | undefined;
      const ctx = this.context(endpoint, composite ? 'observe-composite' : 'observe', opts, (r) => { sentUnder = r; });
      const token = randomBytes(8);
      const hex = tokenHex(token);
      let livePath: Lwm2mPath | undefined;
      const onNotification = (res: ReceivedResponse): void => {
        this.handleNotification(hex, res, livePath);
      };
      let answer: ObserveAnswer;
      try {
        answer = composite
          ? await observeComposite(ctx, list, token, onNotification, opts)
          : await observe(ctx, Lwm2mPath.from(list[0]), token, onNotification, opts);
      } catch (err) {
        this.forget(sentUnder ?? ctx.registration, hex);
        throw err;
      }
      const boundTo = sentUnder ?? ctx.registration;
      const reg = this.store.getByEndpoint(endpoint);
      if (!reg || reg.id !== boundTo.id) {
        // It registered again (or left) after the Observe went out: the answer belongs to a registration that is gone.
        this.forget(boundTo, hex);
        throw new CancelledError(`${endpoint} observe: the device registered again or left while the observation started`);
      }
      const observation: Observation = {
        id: hex,
        token: hex,
        endpoint,
        registrationId: reg.id,
        paths: answer.paths.map(String),
        composite,
        format: answer.asked,
        createdAt: Date.now(),
      };
      if (composite) observation.requestFormat = answer.asked;
      if (opts.owner !== undefined) observation.owner = String(opts.owner);
      if (!composite) livePath = answer.paths[0];
      const replaced = this.store.addObservation(observation);
      for (const o of replaced) if (o.token !== hex) this.forget(reg, o.token);
      return { ...observation, value: answer.value, records: answer.records, format: answer.format, code: answer.code };
    });
  }

  private forget(reg: Registration, token: string): void {
    this.transports.get(reg.transport)?.endpoint.forgetToken(Buffer.from(token, 'hex'));
  }

  /**
   * Cancels observations of a device, named by observation id/token or by path (every observation whose paths include
   * it). Passive by default: the server forgets it and the next notification is answered with RST (RFC 7641 3.6);
   * `{ active: true }` sends the request again with Observe 1.
   */
  cancelObservation(endpoint: string, idOrPath: string, opts: CancelObservationOptions = {}): Promise<Observation[]> {
    return this.call(async () => {
      this.requireStarted();
      const reg = this.store.getByEndpoint(endpoint);
      if (!reg) throw new UnknownEndpointError(endpoint);
      if (typeof idOrPath !== 'string' || idOrPath === '') {
        throw new InvalidArgumentError(`${endpoint} cancel observation`, 'give an observation id or a path');
      }
      let pathKey: string | undefined;
      if (idOrPath.startsWith('/')) pathKey = Lwm2mPath.parse(idOrPath).toString();
      const matches = this.store.observationsOf(reg.id).filter((o) =>
        pathKey !== undefined ? o.paths.includes(pathKey) : o.id === idOrPath || o.token === idOrPath);
      if (matches.length === 0) throw new UnknownObservationError(endpoint, idOrPath);
      for (const o of matches) {
        this.store.removeObservation(o.token);
        this.forget(reg, o.token);
      }
      if (opts.active) {
        const ctx = this.context(endpoint, 'cancel-observe', opts);
        for (const o of matches) await cancelObserveActive(ctx, o, opts);
      }
      return matches;
    });
  }

  /** Current observations (of one device, or all). */
  observations(endpoint?: string): Observation[] {
    if (endpoint === undefined) return [...this.store.allObservations()];
    const reg = this.store.getByEndpoint(endpoint);
    return reg ? this.store.observationsOf(reg.id) : [];
  }

  /** Runs an API call so that synchronous argument errors become rejections. */
  private call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return fn();
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
