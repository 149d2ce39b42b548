/**
 * An LwM2M client (device or gateway) in pure TypeScript: object tree, answers to every server operation, notification
 * attributes, registration with one or more servers, client-initiated bootstrap, queue mode and Send.
 *
 * OMA TS Core 1.1 / 1.2: 6.1 Bootstrap, 6.2 Registration, 6.3 Device Management & Service Enablement, 6.4 Information
 * Reporting, 5.1.2 notification attributes; Transport 1.1 / 1.2 6.x (CoAP mapping, queue mode).
 *
 * ```ts
 * const client = new Lwm2mClient({ endpoint: 'dev-1', serverUri: 'coap://127.0.0.1:5683',
 *   objects: { 3303: { 0: { 5700: 21.5, 5701: 'Cel' } } } });
 * client.on('execute', (e) => console.log(e.path, e.args));
 * await client.start();
 * await client.whenRegistered();
 * client.set('/3303/0/5700', 22.1); // observers get a notification, per their attributes
 * await client.stop(); // De-register, close
 * ```
 */
import { EventEmitter } from 'events';
import * as dgram from 'dgram';
import { promises as dns } from 'dns';
import { isIP } from 'net';
import { CoapEndpoint, CoapRequest, CoapResponse, DatagramSocket, ObserverGone, Peer } from '../coap/types';
import { CoapResponseError, Lwm2mError, TimeoutError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ObjectRegistry } from '../model/types';
import { ModelRegistry } from '../model/registry';
import { ContentFormat as CF } from '../content/formats';
import { Lwm2mRecord, Lwm2mValue } from '../content/values';
import { formatRegistrationLinks, RegisteredObject } from '../content/link';
import { announcedFormats, ClientVersion, encodeRecords } from './content';
import { ExecuteArgument } from './execute-args';
import { ClientConfigError, ClientStateError, InvalidValueError, NotFoundError } from './errors';
import { entries, InstanceInput, ObjectTree, StoredValue } from './object-tree';
import { Observation, ObservationHost, ObservationManager } from './observe';
import { defaultScheduler, Scheduler, Task } from './scheduler';
import { ServerSession, SessionHost, SessionOptions, SessionState } from './session';
import { GatedSocket } from './gated-socket';
import { UdpCoapEndpoint } from '../coap/endpoint';
import { UdpCoapEndpointOptions } from '../coap/params';
import { TimerWheel } from '../util/timer-wheel';
import { connectDtls } from '../dtls/client';
import {
  connectivityInstance, deviceInstance, DeviceInfo, firmwareInstance, locationInstance, SecurityMode, securityInstance,
  serverInstance,
} from './builtins';
import { dispatchBootstrapRequest, dispatchServerRequest, HandlerHost, ServerContext } from './handlers';
import { readComposite, readRecords } from './handlers/read';
import { BootstrapSession, BootstrapOptions } from './bootstrap';

export type ClientState = 'bootstrapping' | 'registering' | 'registered' | 'sleeping' | 'error' | 'stopped';

/** Objects given at construction: `{ 3303: { 0: { 5700: 21.5 } } }`, or with a version `{ 3303: { version: '1.1', instances: {...} } }`. */
export type ObjectsInput = Record<number, Record<number, InstanceInput> | { version?: string; instances?: Record<number, InstanceInput> }>;

/** Creates the CoAP endpoint on a socket (injected by tests, or to use another transport). */
export type EndpointFactory = (socket: DatagramSocket) => CoapEndpoint | Promise<CoapEndpoint>;
/** Opens a DTLS session to a server (default: src/dtls `connectDtls`). */
export type DtlsConnector = (opts: {
  host: string; port: number; identity: string | Buffer; key: Buffer;
  /** The client's localAddress / localPort options: where the secure socket binds. */
  localAddress?: string; localPort?: number;
}) => Promise<DatagramSocket>;

export interface Lwm2mClientOptions {
  /** Endpoint Client Name (`ep=`). */
  endpoint: string;
  /** `coap://host:port` or `coaps://host:port` of the LwM2M Server (not needed when bootstrapping). */
  serverUri?: string;
  /** PSK identity and key for `coaps://` (the key as a Buffer, or hex text). */
  identity?: string | Buffer;
  key?: string | Buffer;
  /** Short Server ID of that server account (default 1). */
  ssid?: number;
  /** Registration lifetime in seconds (default 300). */
  lifetime?: number;
  /** `U`, or `UQ` for queue mode (LwM2M 1.0 style; in 1.1+ it becomes `b=U&Q`). */
  binding?: 'U' | 'UQ' | string;
  /** Queue mode (same as binding `UQ`). */
  queueMode?: boolean;
  /** How long the client stays reachable after traffic in queue mode, in ms (default 93,000: CoAP MAX_TRANSMIT_WAIT). */
  awakeTimeMs?: number;
  /** LwM2M version to register with (default 1.1); falls back on 4.12 / 4.00 unless `versionFallback` is false. */
  version?: ClientVersion;
  versionFallback?: boolean;
  /** Client-initiated bootstrap. */
  bootstrap?: BootstrapOptions;
  /** Application objects with their instances and values. */
  objects?: ObjectsInput;
  /** Device object values. */
  device?: DeviceInfo;
  /** Built-in instances to create besides Security, Server and Device (default: all true). */
  connectivity?: boolean;
  firmware?: boolean;
  location?: boolean | { latitude: number; longitude: number };
  /** Object definitions (default: a shared registry with the built-in objects). */
  registry?: ObjectRegistry;
  /** Default pmin / pmax of observations (Server object resources 2 and 3). */
  defaultPmin?: number;
  defaultPmax?: number;
  /** Send notifications confirmable (default false; 1.2's `con` attribute overrides). */
  confirmableNotifications?: boolean;
  /** A CoAP endpoint to use for coap:// (shared code, tests). The client does not close it. Queue mode cannot block it. */
  coapEndpoint?: CoapEndpoint;
  /** A datagram socket to run our CoAP endpoint on (the client closes it on stop). */
  socket?: DatagramSocket;
  /** Address / port to bind the client's socket to (default any address, ephemeral port). */
  localAddress?: string;
  localPort?: number;
  /** CoAP transmission parameters of the client's endpoints (ACK timeout, retransmissions...). */
  coap?: UdpCoapEndpointOptions;
  /** How to create a CoAP endpoint on a socket (default: a src/coap `UdpCoapEndpoint`). */
  endpointFactory?: EndpointFactory;
  dtlsConnector?: DtlsConnector;
  /** The scheduler running timers (default: one shared by every client of the process). */
  scheduler?: Scheduler;
  /** Timeout of the client's own requests (Register, Update, Send), in ms (default: the transport's). */
  requestTimeoutMs?: number;
  /** Back-off after a failed registration: first delay and ceiling, in ms (default 2,000 and 300,000). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Failed registrations before falling back to bootstrap, when a Bootstrap-Server account exists (default 5). */
  maxRegistrationAttempts?: number;
  /** Update this long before the lifetime runs out (default: 10% of the lifetime, 1 s to 93 s). */
  updateMarginMs?: number;
}

export interface WriteEvent {
  /** The request's target path. */
  path: string;
  /** What was written: resource path -> value (a Map of instance id -> value for multiple resources). */
  values: Record<string, Lwm2mValue | Map<number, Lwm2mValue>>;
  /** The server (URI) that wrote, or `bootstrap`. */
  server: string;
}

export interface ExecuteEvent {
  path: string;
  args: ExecuteArgument[];
  /** The raw argument text. */
  raw: string;
  server: string;
}

export type ReadHook = (path: Lwm2mPath) => unknown | Promise<unknown>;

let sharedRegistry: ModelRegistry | undefined;
function builtinRegistry(): ModelRegistry {
  if (sharedRegistry === undefined) sharedRegistry = ModelRegistry.withBuiltins();
  return sharedRegistry;
}

const VERSIONS: readonly ClientVersion[] = ['1.0', '1.1', '1.2'];

interface ParsedUri { secure: boolean; host: string; port: number }

/** Parses `coap://host:port` / `coaps://[::1]:5684`. */
export function parseServerUri(uri: string): ParsedUri {
  const m = /^(coaps?):\/\/(\[[0-9a-fA-F:.]+\]|[^:/?#\s]+)(?::(\d{1,5}))?\/?$/.exec(String(uri).trim());
  if (m === null) throw new ClientConfigError(`invalid server URI "${uri}" (expected coap://host:port or coaps://host:port)`);
  const secure = m[1] === 'coaps';
  const port = m[3] !== undefined ? Number(m[3]) : secure ? 5684 : 5683;
  if (port < 1 || port > 65535) throw new ClientConfigError(`invalid port in "${uri}"`);
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  return { secure, host, port };
}

function toKey(k: string | Buffer | undefined): Buffer | undefined {
  if (k === undefined) return undefined;
  if (Buffer.isBuffer(k)) return k;
  if (/^([0-9a-fA-F]{2})+$/.test(k)) return Buffer.from(k, 'hex');
  return Buffer.from(k, 'utf8');
}

/** Transport of one socket: the CoAP endpoint, its gate for queue mode, whether we own (close) it. */
interface Transport {
  endpoint: CoapEndpoint;
  gate?: GatedSocket;
  owned: boolean;
  /** DTLS transports serve one peer. */
  secure: boolean;
}

/**
 * Events:
 * - `state` (state, previous): 'bootstrapping' | 'registering' | 'registered' | 'sleeping' | 'error' | 'stopped'
 * - `registered` / `updated` / `deregistered` ({ server, ssid, location?, version? }), `update-failed` ({ server, code }),
 *   `version-fallback` ({ server, from, to, code }), `ct-fallback` ({ server, version, from, to, code }: the server refused
 *   the list of content formats, one is announced from then on), `retry` ({ server, attempt, delayMs }), `registration-failed`
 * - `bootstrap-request`, `bootstrap-pack`, `bootstrapped` ({ server, accounts })
 * - `write` ({@link WriteEvent}), `execute` ({@link ExecuteEvent}), `create` / `delete` ({ path, server }),
 *   `attributes` ({ path, server, attributes })
 * - `reboot`, `factory-reset` (ExecuteEvent), `firmware-download` ({ uri }), `firmware-update` ({ uri, package })
 * - `error` (Error): failures (registration, transport...); only emitted when someone listens, never thrown.
 */
export class Lwm2mClient extends EventEmitter implements HandlerHost, SessionHost, ObservationHost {
  readonly endpointName: string;
  readonly tree: ObjectTree;
  readonly registry: ObjectRegistry;
  readonly scheduler: Scheduler;
  readonly observations: ObservationManager;
  readonly options: SessionOptions;
  private readonly opts: Lwm2mClientOptions;
  private readonly hooks = new Map<string, ReadHook>();
  private sessions: ServerSession[] = [];
  private bootstrapSession: BootstrapSession | undefined;
  private plain: Transport | undefined;
  private plainPending: Promise<Transport> | undefined;
  private readonly secureTransports = new Map<ServerSession | BootstrapSession, Transport>();
  private _state: ClientState = 'stopped';
  private started = false;
  private generation = 0;
  private linksCache: { gen: number; version: ClientVersion; ct: string; text: string } | undefined;
  private readonly bootstrapTask = new Task(() => { void this.runBootstrap(); });
  private bootstrapAttempts = 0;

  constructor(options: Lwm2mClientOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new ClientConfigError('options are required');
    if (typeof options.endpoint !== 'string' || options.endpoint === '' || options.endpoint.length > 255) {
      throw new ClientConfigError('endpoint must be a non-empty string of at most 255 characters');
    }
    const version = options.version ?? '1.1';
    if (!VERSIONS.includes(version)) throw new ClientConfigError(`version must be one of ${VERSIONS.join(', ')}`);
    if (options.serverUri === undefined && options.bootstrap === undefined) {
      throw new ClientConfigError('serverUri or bootstrap is required');
    }
    if (options.serverUri !== undefined) parseServerUri(options.serverUri);
    if (options.bootstrap !== undefined) parseServerUri(options.bootstrap.uri);
    const lifetime = options.lifetime ?? 300;
    if (!Number.isInteger(lifetime) || lifetime < 0) throw new ClientConfigError('lifetime must be a non-negative integer (seconds)');
    this.opts = options;
    this.endpointName = options.endpoint;
    this.registry = options.registry ?? builtinRegistry();
    this.scheduler = options.scheduler ?? defaultScheduler();
    const binding = options.binding ?? 'U';
    this.options = {
      version,
      versionFallback: options.versionFallback ?? true,
      queueMode: options.queueMode === true || binding.includes('Q'),
      awakeTimeMs: options.awakeTimeMs ?? 93_000,
      requestTimeoutMs: options.requestTimeoutMs,
      retryInitialMs: options.retryInitialMs ?? 2000,
      retryMaxMs: options.retryMaxMs ?? 300_000,
      maxAttempts: options.maxRegistrationAttempts ?? 5,
      confirmableNotifications: options.confirmableNotifications ?? false,
      updateMarginMs: options.updateMarginMs,
    };
    this.tree = new ObjectTree(this.registry);
    this.observations = new ObservationManager(this.scheduler, this);
    this.buildTree(options, lifetime, binding.replace(/Q/g, '') || 'U');
    this.tree.onChange = (path, kind) => this.onTreeChange(path, kind);
    // Device Current Time is live (Core E.4 resource 13)
    this.hooks.set('/3/0/13', () => new Date());
  }

  private buildTree(o: Lwm2mClientOptions, lifetime: number, binding: string): void {
    const t = this.tree;
    for (const id of [0, 1, 3]) t.defineObject(id);
    let secId = 0;
    if (o.serverUri !== undefined) {
      const { secure } = parseServerUri(o.serverUri);
      const ssid = o.ssid ?? 1;
      if (!Number.isInteger(ssid) || ssid < 1 || ssid > 65534) throw new ClientConfigError('ssid must be 1..65534');
      const identity = toKey(o.identity);
      const key = toKey(o.key);
      if (secure && (identity === undefined || key === undefined)) throw new ClientConfigError('coaps:// needs identity and key (PSK)');
      const account = {
        uri: o.serverUri, ssid, bootstrap: false, securityMode: secure ? SecurityMode.PSK : SecurityMode.NOSEC,
        identity: typeof o.identity === 'string' ? Buffer.from(o.identity, 'utf8') : identity, key, lifetime, binding,
        defaultPmin: o.defaultPmin, defaultPmax: o.defaultPmax,
      };
      t.createInstance(0, secId++, securityInstance(account), { silent: true });
      t.createInstance(1, 0, serverInstance(account), { silent: true });
    }
    if (o.bootstrap !== undefined) {
      const { secure } = parseServerUri(o.bootstrap.uri);
      const key = toKey(o.bootstrap.key);
      if (secure && (o.bootstrap.identity === undefined || key === undefined)) throw new ClientConfigError('coaps:// bootstrap needs identity and key (PSK)');
      t.createInstance(0, secId++, securityInstance({
        uri: o.bootstrap.uri, bootstrap: true, securityMode: secure ? SecurityMode.PSK : SecurityMode.NOSEC,
        identity: typeof o.bootstrap.identity === 'string' ? Buffer.from(o.bootstrap.identity, 'utf8') : o.bootstrap.identity, key,
      }), { silent: true });
    }
    const queue = this.options.queueMode;
    t.createInstance(3, 0, deviceInstance({ serial: o.endpoint, ...o.device }, queue ? 'UQ' : 'U'), { silent: true });
    if (o.connectivity !== false) t.createInstance(4, 0, connectivityInstance(o.localAddress ?? '127.0.0.1'), { silent: true });
    if (o.firmware !== false) t.createInstance(5, 0, firmwareInstance(), { silent: true });
    if (o.location !== false) {
      const loc = typeof o.location === 'object' ? o.location : undefined;
      t.createInstance(6, 0, locationInstance(loc?.latitude, loc?.longitude), { silent: true });
    }
    for (const [oid, spec] of Object.entries(o.objects ?? {})) {
      const objectId = Number(oid);
      if (!Number.isInteger(objectId)) throw new ClientConfigError(`object id "${oid}" is not a number`);
      const isVersioned = typeof spec === 'object' && spec !== null && ('instances' in spec || 'version' in spec)
        && !/^\d+$/.test(Object.keys(spec)[0] ?? '');
      const version = isVersioned ? (spec as { version?: string }).version : undefined;
      const instances = (isVersioned ? (spec as { instances?: Record<number, InstanceInput> }).instances : spec) ?? {};
      t.defineObject(objectId, version);
      for (const [iid, values] of entries(instances as Record<number, unknown>)) {
        if (t.hasInstance(objectId, iid)) t.deleteInstance(objectId, iid, { silent: true });
        t.createInstance(objectId, iid, values as InstanceInput, { silent: true });
      }
    }
  }

  // ---- state ------------------------------------------------------------------------------------------------------

  get state(): ClientState { return this._state; }

  /** Server sessions (one per server account), for inspection. */
  get servers(): readonly ServerSession[] { return this.sessions; }

  private setState(s: ClientState): void {
    if (s === this._state) return;
    const prev = this._state;
    this._state = s;
    this.emit('state', s, prev);
  }

  sessionStateChanged(_s: ServerSession, _prev: SessionState): void {
    if (!this.started || this.bootstrapSession !== undefined) return;
    this.setState(this.aggregateState());
  }

  private aggregateState(): ClientState {
    if (this.sessions.length === 0) return 'error';
    const states = this.sessions.map((s) => s.state);
    if (states.includes('registered')) return 'registered';
    if (states.includes('sleeping')) return 'sleeping';
    if (states.includes('registering') || states.includes('idle') || states.includes('disabled')) return 'registering';
    if (states.includes('error')) return 'error';
    return 'stopped';
  }

  /** Resolves when registered with a server (at once if already); rejects after `timeoutMs` or when stopped. */
  whenRegistered(timeoutMs = 30_000): Promise<void> {
    if (this._state === 'registered' || this._state === 'sleeping') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onState = (s: ClientState) => {
        if (s === 'registered' || s === 'sleeping') { done(); resolve(); }
        else if (s === 'stopped') { done(); reject(new ClientStateError(s, 'client stopped before registering')); }
      };
      const timer = setTimeout(() => { done(); reject(new TimeoutError(`registration of ${this.endpointName}`, timeoutMs)); }, timeoutMs);
      const done = () => { clearTimeout(timer); this.off('state', onState); };
      this.on('state', onState);
    });
  }

  event(name: string, data: unknown): void {
    this.emit(name, data);
  }

  failure(err: unknown, _session?: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  // ---- start / stop -----------------------------------------------------------------------------------------------

  /**
   * Starts the client: bootstraps when it has no LwM2M Server account (or `bootstrap.always`), then registers with every
   * server account. Resolves once started (not once registered: see {@link whenRegistered}).
   */
  async start(): Promise<void> {
    if (this.started) throw new ClientStateError(this._state, 'client already started');
    this.started = true;
    if (this.needsBootstrap()) {
      this.setState('bootstrapping');
      void this.runBootstrap();
    } else {
      this.startSessions();
    }
  }

  private needsBootstrap(): boolean {
    if (this.bootstrapInstance() === undefined) return false;
    return this.opts.bootstrap?.always === true || this.serverAccounts().length === 0;
  }

  /** Security instance of the Bootstrap-Server account. */
  bootstrapInstance(): number | undefined {
    for (const i of this.tree.instanceIds(0)) if (this.tree.instance(0, i)!.get(1) === true) return i;
    return undefined;
  }

  /** LwM2M Server accounts: Security instances (not bootstrap) with a Server instance of the same Short Server ID. */
  serverAccounts(): { ssid: number; uri: string; securityInstance: number; serverInstance: number }[] {
    const out: { ssid: number; uri: string; securityInstance: number; serverInstance: number }[] = [];
    for (const si of this.tree.instanceIds(0)) {
      const sec = this.tree.instance(0, si)!;
      if (sec.get(1) === true) continue;
      const ssid = sec.get(10);
      const uri = sec.get(0);
      if (typeof ssid !== 'number' || typeof uri !== 'string') continue;
      for (const vi of this.tree.instanceIds(1)) {
        if (this.tree.instance(1, vi)!.get(0) === ssid) { out.push({ ssid, uri, securityInstance: si, serverInstance: vi }); break; }
      }
    }
    return out;
  }

  private startSessions(): void {
    this.bootstrapSession = undefined;
    const accounts = this.serverAccounts();
    this.sessions = accounts.map((a) => new ServerSession(this, a.ssid, a.uri, a.securityInstance, a.serverInstance));
    if (this.sessions.length === 0) {
      this.setState('error');
      this.failure(new ClientStateError('error', 'no LwM2M Server account to register with'));
      return;
    }
    this.setState('registering');
    for (const s of this.sessions) s.start();
  }

  /** De-registers from every server, then closes the client's sockets. The client can be started again. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.scheduler.cancel(this.bootstrapTask);
    const bs = this.bootstrapSession;
    this.bootstrapSession = undefined;
    bs?.cancel();
    await Promise.all(this.sessions.map((s) => s.stop(true)));
    this.observations.clear();
    await this.closeTransports();
    for (const s of this.sessions) s.detach();
    this.sessions = [];
    this.setState('stopped');
  }

  private async closeTransports(): Promise<void> {
    const all: Transport[] = [...this.secureTransports.values()];
    if (this.plainPending !== undefined) {
      try { await this.plainPending; } catch { /* failed to open: nothing to close */ }
    }
    if (this.plain !== undefined) all.push(this.plain);
    this.plain = undefined;
    this.plainPending = undefined;
    this.secureTransports.clear();
    await Promise.all(all.filter((t) => t.owned).map((t) => t.endpoint.close().catch(() => undefined)));
  }

  // ---- transport --------------------------------------------------------------------------------------------------

  /** Resolves a host name to the address requests are sent to (and requests are expected from). */
  private async resolve(host: string): Promise<{ address: string; family: 4 | 6 }> {
    const v = isIP(host);
    if (v !== 0) return { address: host, family: v as 4 | 6 };
    const r = await dns.lookup(host);
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  }

  private async endpointOn(socket: DatagramSocket): Promise<CoapEndpoint> {
    if (this.opts.endpointFactory !== undefined) return this.opts.endpointFactory(socket);
    return new UdpCoapEndpoint(socket, { timerWheel: sharedWheel(), ...this.opts.coap });
  }

  private async plainTransport(family: 4 | 6): Promise<Transport> {
    if (this.plain !== undefined) return this.plain;
    if (this.plainPending !== undefined) return this.plainPending;
    this.plainPending = (async () => {
      let t: Transport;
      if (this.opts.coapEndpoint !== undefined) {
        t = { endpoint: this.opts.coapEndpoint, owned: false, secure: false };
      } else {
        const raw = this.opts.socket ?? await bindSocket(family, this.opts.localAddress, this.opts.localPort);
        const gate = new GatedSocket(raw);
        const endpoint = await this.endpointOn(gate);
        t = { endpoint, gate, owned: true, secure: false };
      }
      t.endpoint.setRequestHandler((req) => this.onRequest(t, req));
      t.endpoint.setObserverGoneHandler?.((g) => this.onObserverGone(t, g));
      this.plain = t;
      return t;
    })();
    return this.plainPending;
  }

  private async secureTransport(owner: ServerSession | BootstrapSession, host: string, port: number, identity: Buffer, key: Buffer): Promise<Transport> {
    const existing = this.secureTransports.get(owner);
    if (existing !== undefined) return existing;
    const connect = this.opts.dtlsConnector ?? defaultDtlsConnector;
    const raw = await connect({ host, port, identity: identity.toString('utf8'), key, localAddress: this.opts.localAddress, localPort: this.opts.localPort });
    const gate = new GatedSocket(raw);
    const endpoint = await this.endpointOn(gate);
    const t: Transport = { endpoint, gate, owned: true, secure: true };
    endpoint.setRequestHandler((req) => this.onRequest(t, req));
    endpoint.setObserverGoneHandler?.((g) => this.onObserverGone(t, g));
    this.secureTransports.set(owner, t);
    // The DTLS session ended (close_notify, fatal alert, peer restart): next time a new handshake is needed.
    gate.once('close', () => {
      if (this.secureTransports.get(owner) !== t) return;
      this.secureTransports.delete(owner);
      void t.endpoint.close().catch(() => undefined);
      if (this.started && owner instanceof ServerSession) owner.transportLost();
    });
    return t;
  }

  /** Transport for a server account (SessionHost). */
  async connect(session: ServerSession | BootstrapSession): Promise<{ endpoint: CoapEndpoint; peer: Peer; gate?: GatedSocket }> {
    const sec = this.tree.instance(0, session.securityInstance);
    if (sec === undefined) throw new ClientStateError(this._state, `Security instance /0/${session.securityInstance} is gone`);
    const { secure, host, port } = parseServerUri(session.uri);
    const { address, family } = await this.resolve(host);
    const peer: Peer = { address, port };
    let t: Transport;
    if (secure) {
      const identity = sec.get(3);
      const key = sec.get(5);
      if (!Buffer.isBuffer(identity) || !Buffer.isBuffer(key) || identity.length === 0 || key.length === 0) {
        throw new ClientConfigError(`${session.uri}: PSK identity and key are required (Security /0/${session.securityInstance}/3 and /5)`);
      }
      t = await this.secureTransport(session, address, port, identity, key);
    } else {
      t = await this.plainTransport(family);
    }
    if (!this.started) throw new ClientStateError('stopped', 'client stopped');
    return { endpoint: t.endpoint, peer, gate: t.gate };
  }

  /** The address the client's plain socket is bound to (after start). */
  address(): { address: string; port: number; family: string } | undefined {
    return this.plain?.endpoint.address();
  }

  /**
   * A server rejected a notification with RST, NON ones included (RFC 7641 3.6: it forgot the observation, e.g. a
   * passive cancel): the observation ends, exactly as when the RST answers a confirmable notification.
   */
  private onObserverGone(t: Transport, gone: ObserverGone): void {
    for (const s of this.sessions) {
      if (s.endpoint === t.endpoint) this.observations.observerGone(s, gone.token, gone.peer);
    }
  }

  private onRequest(t: Transport, req: CoapRequest): Promise<CoapResponse> | CoapResponse {
    const bs = this.bootstrapSession;
    if (bs !== undefined && bs.matches(t.endpoint, req.peer)) return dispatchBootstrapRequest(this, bs, req);
    let session: ServerSession | undefined;
    for (const s of this.sessions) {
      if (s.endpoint === t.endpoint && s.peer !== undefined && s.peer.port === req.peer.port && sameAddress(s.peer.address, req.peer.address)) {
        session = s;
        break;
      }
    }
    if (session === undefined) {
      // behind a NAT or a proxy the source may differ: a single server on this transport is the one
      const onThis = this.sessions.filter((s) => s.endpoint === t.endpoint);
      if (onThis.length === 1) session = onThis[0];
    }
    if (session === undefined) return { code: '4.01', payload: Buffer.from('unknown server') };
    if (session.state === 'disabled' || session.state === 'stopped') return { code: '5.03' };
    session.wake();
    return dispatchServerRequest(this, session, req);
  }

  // ---- registration payload ---------------------------------------------------------------------------------------

  get objectsGeneration(): number { return this.generation; }

  /**
   * Register / Update payload: `</>;rt="oma.lwm2m";ct=...,</1/0>,</3>;ver=1.1,</3/0>,...` (Security left out, Core 6.2.1).
   * `ct`: the content formats to announce (default: every one the client has for that version).
   */
  registrationLinks(version: ClientVersion, ct: readonly number[] = announcedFormats(version)): string {
    const c = this.linksCache;
    const ctKey = ct.join(' ');
    if (c !== undefined && c.gen === this.generation && c.version === version && c.ct === ctKey) return c.text;
    const objects: RegisteredObject[] = [];
    for (const o of this.tree.objectIds()) {
      if (o === 0 || o === 21) continue;
      const ver = this.tree.objectVersion(o);
      objects.push({ objectId: o, version: version !== '1.0' && ver !== '1.0' ? ver : undefined, instances: this.tree.instanceIds(o) });
    }
    const text = formatRegistrationLinks({ ct, objects });
    this.linksCache = { gen: this.generation, version, ct: ctKey, text };
    return text;
  }

  registrationFailed(session: ServerSession): boolean {
    // Core 1.1 6.2.1.1: after the registration sequences failed, a client with a Bootstrap-Server account bootstraps
    if (this.bootstrapInstance() === undefined || this.bootstrapSession !== undefined) return false;
    this.emit('registration-failed', { server: session.uri });
    void this.rebootstrap();
    return true;
  }

  private async rebootstrap(): Promise<void> {
    for (const s of this.sessions) await s.stop(false);
    this.sessions = [];
    this.setState('bootstrapping');
    void this.runBootstrap();
  }

  // ---- bootstrap --------------------------------------------------------------------------------------------------

  private async runBootstrap(): Promise<void> {
    if (!this.started) return;
    const bsInstance = this.bootstrapInstance();
    const uri = bsInstance !== undefined ? this.tree.instance(0, bsInstance)!.get(0) : undefined;
    if (bsInstance === undefined || typeof uri !== 'string') {
      this.setState('error');
      this.failure(new ClientStateError('error', 'no Bootstrap-Server account'));
      return;
    }
    this.setState('bootstrapping');
    const bs = new BootstrapSession(this, bsInstance, uri, this.opts.bootstrap ?? { uri }, this.options.version);
    this.bootstrapSession = bs;
    try {
      await bs.run();
      bs.leave();
      if (this.bootstrapSession !== bs || !this.started) return;
      this.bootstrapAttempts = 0;
      this.emit('bootstrapped', { server: uri, accounts: this.serverAccounts().map((a) => a.uri) });
      const t = this.secureTransports.get(bs);
      if (t !== undefined) { this.secureTransports.delete(bs); await t.endpoint.close().catch(() => undefined); }
      this.startSessions();
    } catch (err) {
      bs.leave();
      if (this.bootstrapSession !== bs || !this.started) return;
      this.bootstrapSession = undefined;
      this.bootstrapAttempts++;
      this.setState('error');
      this.failure(err);
      const base = Math.min(this.options.retryMaxMs, this.options.retryInitialMs * 2 ** Math.min(this.bootstrapAttempts - 1, 30));
      const delay = Math.round(base * (0.9 + 0.2 * Math.random()));
      this.emit('retry', { server: uri, attempt: this.bootstrapAttempts, delayMs: delay, bootstrap: true });
      const t = this.secureTransports.get(bs);
      if (t !== undefined) { this.secureTransports.delete(bs); await t.endpoint.close().catch(() => undefined); }
      this.scheduler.schedule(this.bootstrapTask, delay);
    }
  }

  // ---- tree access ------------------------------------------------------------------------------------------------

  /** The stored value at a resource or resource-instance path (a Map for multiple resources). */
  get(path: string | Lwm2mPath): StoredValue | undefined {
    return this.tree.get(Lwm2mPath.from(path));
  }

  /**
   * Sets a resource (or resource instance) value, converting it to the model's type. A missing instance of a known or
   * declared object is created (and the registration updated). Observers are notified per their attributes.
   * @throws {InvalidValueError} for a value that does not fit; {@link NotFoundError} for a non-resource path.
   */
  set(path: string | Lwm2mPath, value: unknown): boolean {
    const p = Lwm2mPath.from(path);
    if (p.length < 3) throw new InvalidValueError(p.toString(), 'a resource path is needed (/O/I/R or /O/I/R/RI)');
    const [o, i] = p.segments;
    if (!this.tree.hasInstance(o, i!)) {
      if (!this.tree.hasObject(o) && this.registry.getObject(o) === undefined) {
        throw new NotFoundError(p.toString(), `object ${o} is unknown: declare it with addObject() or load its definition`);
      }
      this.tree.createInstance(o, i);
    }
    return this.tree.set(p, value);
  }

  /** Sets several values: `{ '/3303/0/5700': 21.5, '/3/0/9': 80 }`. All are checked before any is stored. */
  setMany(values: Record<string, unknown> | Map<string, unknown>): void {
    const list = values instanceof Map ? [...values.entries()] : Object.entries(values);
    const paths = list.map(([k]) => Lwm2mPath.parse(k));
    // check first: convert into a scratch value per path
    paths.forEach((p, n) => {
      if (p.length < 3) throw new InvalidValueError(p.toString(), 'a resource path is needed');
      const def = this.tree.resourceDef(p.objectId!, p.resourceId!);
      if (p.length === 4) this.tree.convertValue(p, def, list[n][1]);
      else this.tree.convertResource(p.objectId!, p.instanceId!, p.resourceId!, list[n][1]);
    });
    paths.forEach((p, n) => this.set(p, list[n][1]));
  }

  /** Declares an object (registered even without instances) and optionally creates instances. */
  addObject(objectId: number, instances?: Record<number, InstanceInput>, version?: string): void {
    const had = this.tree.hasObject(objectId);
    this.tree.defineObject(objectId, version);
    if (!had) this.objectsChanged();
    for (const [iid, values] of entries(instances ?? {})) this.tree.createInstance(objectId, iid, values as InstanceInput);
  }

  /** Creates an instance (the registration is updated with the new object links). Returns its id. */
  createInstance(objectId: number, instanceId?: number, values?: InstanceInput): number {
    return this.tree.createInstance(objectId, instanceId, values);
  }

  deleteInstance(objectId: number, instanceId: number): boolean {
    return this.tree.deleteInstance(objectId, instanceId);
  }

  /**
   * Answers reads of a resource live: `client.onRead('/3303/0/5700', () => sensor.read())`. The value is stored (and
   * compared for notification conditions) each time the hook runs. Returns a function removing the hook.
   */
  onRead(path: string | Lwm2mPath, hook: ReadHook): () => void {
    const p = Lwm2mPath.from(path);
    if (p.length !== 3) throw new InvalidValueError(p.toString(), 'read hooks attach to resource paths (/O/I/R)');
    const k = p.toString();
    this.hooks.set(k, hook);
    return () => { if (this.hooks.get(k) === hook) this.hooks.delete(k); };
  }

  /** Runs the read hooks at or below `path` (HandlerHost). */
  async refresh(path: Lwm2mPath): Promise<void> {
    if (this.hooks.size === 0) return;
    const prefix = path.toString();
    for (const [k, hook] of this.hooks) {
      if (!(path.isRoot() || k === prefix || k.startsWith(prefix + '/') || (path.length === 4 && k === path.parent().toString()))) continue;
      const p = Lwm2mPath.parse(k);
      if (!this.tree.hasInstance(p.objectId!, p.instanceId!)) continue;
      let v: unknown;
      try {
        v = await hook(p);
      } catch (err) {
        throw new CoapResponseError('5.00', k, `read hook failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (v === undefined) continue;
      try {
        this.tree.set(p, v, { silent: true });
      } catch (err) {
        throw new CoapResponseError('5.00', k, `read hook value: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private objectsChanged(): void {
    this.generation++;
    for (const s of this.sessions) s.changed();
  }

  private onTreeChange(path: Lwm2mPath, kind: 'value' | 'create' | 'delete'): void {
    if (kind !== 'value' && path.length <= 2) {
      this.generation++;
      if (path.length === 2 && kind === 'delete') for (const s of this.sessions) s.attributes.removeUnder(path);
      for (const s of this.sessions) s.changed();
    }
    this.observations.changed(path, kind);
  }

  // ---- HandlerHost ------------------------------------------------------------------------------------------------

  written(server: ServerContext | undefined, path: Lwm2mPath, values: Map<string, Lwm2mValue | Map<number, Lwm2mValue>>): void {
    const who = server?.uri ?? 'bootstrap';
    const ev: WriteEvent = { path: path.toString(), values: Object.fromEntries(values), server: who };
    for (const k of values.keys()) {
      const p = Lwm2mPath.parse(k);
      const [o, i, r] = p.segments;
      if (o === 1 && (r === 1 || r === 7)) {
        // lifetime or binding changed: Update (Core 1.1 6.2.2)
        for (const s of this.sessions) if (s.serverInstance === i) s.changed();
      } else if (o === 5 && i === 0) {
        this.firmwareWritten(r!, values.get(k));
      }
    }
    this.emit('write', ev);
  }

  async execute(server: ServerContext, path: Lwm2mPath, args: ExecuteArgument[], raw: string): Promise<void> {
    const [o, i, r] = path.segments;
    const ev: ExecuteEvent = { path: path.toString(), args, raw, server: server.uri };
    if (o === 1) {
      const session = this.sessions.find((s) => s.serverInstance === i);
      if (session !== undefined) {
        if (r === 8) setImmediate(() => { void session.update(true); });
        else if (r === 4) setImmediate(() => { void session.disable(); });
      }
      if (r === 9 && this.bootstrapInstance() !== undefined) setImmediate(() => { void this.rebootstrap(); });
    } else if (o === 3 && i === 0) {
      if (r === 4) this.emit('reboot', ev);
      else if (r === 5) this.emit('factory-reset', ev);
      else if (r === 12) this.tree.set(new Lwm2mPath([3, 0, 11]), [0]);
    } else if (o === 5 && i === 0 && r === 2) {
      this.firmwareUpdate(ev);
    }
    this.emit('execute', ev);
  }

  created(server: ServerContext | undefined, path: Lwm2mPath): void {
    this.emit('create', { path: path.toString(), server: server?.uri ?? 'bootstrap' });
  }

  deleted(server: ServerContext | undefined, path: Lwm2mPath): void {
    this.emit('delete', { path: path.toString(), server: server?.uri ?? 'bootstrap' });
  }

  attributesWritten(server: ServerContext, path: Lwm2mPath): void {
    this.observations.attributesChanged(server, path);
    this.emit('attributes', { path: path.toString(), server: server.uri, attributes: server.attributes.get(path) ?? {} });
  }

  // ---- Firmware Update (Core E.6): minimal state machine -----------------------------------------------------------

  private fwState(state: number, result?: number): void {
    this.tree.set(new Lwm2mPath([5, 0, 3]), state);
    if (result !== undefined) this.tree.set(new Lwm2mPath([5, 0, 5]), result);
  }

  private firmwareWritten(r: number, v: unknown): void {
    if (r === 1) {
      const uri = typeof v === 'string' ? v : '';
      if (uri === '') { this.fwState(0, 0); return; }
      this.fwState(1, 0);
      this.emit('firmware-download', { uri });
      // a virtual device "downloads" at once
      setImmediate(() => { if (this.tree.get(new Lwm2mPath([5, 0, 3])) === 1) this.fwState(2); });
    } else if (r === 0) {
      if (Buffer.isBuffer(v) && v.length > 0) this.fwState(2, 0); else this.fwState(0, 0);
    }
  }

  private firmwareUpdate(ev: ExecuteEvent): void {
    if (this.tree.get(new Lwm2mPath([5, 0, 3])) !== 2) {
      throw new CoapResponseError('4.05', ev.path, 'Update needs a downloaded firmware (State 2)');
    }
    this.fwState(3);
    this.emit('firmware-update', { uri: this.tree.get(new Lwm2mPath([5, 0, 1])), package: this.tree.get(new Lwm2mPath([5, 0, 0])) });
    setImmediate(() => {
      if (this.tree.get(new Lwm2mPath([5, 0, 3])) === 3) this.fwState(0, 1);
    });
  }

  /** Reports the end of a firmware update the application ran itself (result: 1 success, 8 failed...). */
  firmwareResult(result: number): void {
    this.fwState(0, result);
  }

  // ---- ObservationHost --------------------------------------------------------------------------------------------

  async render(obs: Observation): Promise<CoapResponse> {
    try {
      if (obs.composite) {
        const records = await readComposite(this, obs.paths);
        return { code: '2.05', contentFormat: obs.format, payload: encodeRecords(obs.format, records, Lwm2mPath.ROOT, this.registry, true) };
      }
      const p = obs.paths[0];
      if (!this.tree.has(p)) return { code: '4.04' };
      const records = await readRecords(this, p);
      return { code: '2.05', contentFormat: obs.format, payload: encodeRecords(obs.format, records, p, this.registry, true) };
    } catch (err) {
      if (err instanceof CoapResponseError) return { code: err.coapCode };
      throw err;
    }
  }

  currentValue(path: Lwm2mPath): unknown {
    return this.tree.get(path);
  }

  async notify(obs: Observation, res: CoapResponse, confirmable: boolean): Promise<void> {
    await (obs.owner as ServerSession).sendNotification(obs, res, confirmable);
  }

  onError(_obs: Observation, err: unknown): void {
    this.failure(err);
  }

  // ---- Send (Core 1.1 / 1.2 Information Reporting Interface, "Send" operation) -------------------------------------

  /**
   * Sends values to the server (`POST /dp`, SenML CBOR by default), LwM2M 1.1+. Paths may be resources, instances or
   * objects; read hooks run first. Resolves when the server answered 2.04.
   */
  async send(paths: string | Lwm2mPath | readonly (string | Lwm2mPath)[], opts: { format?: number; ssid?: number; timestamp?: boolean } = {}): Promise<void> {
    const session = opts.ssid !== undefined ? this.sessions.find((s) => s.ssid === opts.ssid) : this.sessions.find((s) => s.state === 'registered' || s.state === 'sleeping');
    if (session === undefined || (session.state !== 'registered' && session.state !== 'sleeping')) {
      throw new ClientStateError(this._state, 'Send needs a registered server');
    }
    if (session.version === '1.0') throw new ClientStateError(this._state, 'Send needs LwM2M 1.1 or later');
    const mute = this.tree.get(new Lwm2mPath([1, session.serverInstance, 23]));
    if (mute === true) throw new ClientStateError(this._state, 'Send is muted for this server (Server resource 23)');
    const format = opts.format ?? CF.SENML_CBOR;
    const ps = (Array.isArray(paths) ? paths : [paths]).map((p: string | Lwm2mPath) => Lwm2mPath.from(p));
    if (ps.length === 0) throw new InvalidValueError('/', 'Send needs at least one path');
    let records: Lwm2mRecord[] = await readComposite(this, ps);
    if (records.length === 0) throw new NotFoundError(ps.map(String).join(','), 'nothing to send');
    if (opts.timestamp !== false) {
      const t = Math.floor(Date.now() / 1000);
      records = records.map((r) => ({ ...r, time: t }));
    }
    const payload = encodeRecords(format, records, Lwm2mPath.ROOT, this.registry, true);
    const res = await session.request({ method: 'POST', path: ['dp'], contentFormat: format, payload });
    if (res.code !== '2.04') throw new CoapResponseError(res.code, 'Send', res.payload.length > 0 ? res.payload.toString('utf8').slice(0, 200) : undefined);
  }

  /** Sends a registration Update now to every registered server (e.g. after changing things out of band). */
  async triggerUpdate(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.update(true)));
  }
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const strip = (x: string) => (x.startsWith('::ffff:') ? x.slice(7) : x);
  return strip(a) === strip(b);
}

async function bindSocket(family: 4 | 6, address: string | undefined, port: number | undefined): Promise<DatagramSocket> {
  const type = address !== undefined ? (isIP(address) === 6 ? 'udp6' : 'udp4') : family === 6 ? 'udp6' : 'udp4';
  const sock = dgram.createSocket({ type });
  await new Promise<void>((resolve, reject) => {
    const onErr = (err: Error) => reject(new Lwm2mError('CLIENT_SOCKET', `cannot bind ${address ?? ''}:${port ?? 0}: ${err.message}`, { cause: err }));
    sock.once('error', onErr);
    sock.bind(port ?? 0, address, () => { sock.off('error', onErr); resolve(); });
  });
  return sock as unknown as DatagramSocket;
}

let clientWheel: TimerWheel | undefined;
/** Every client endpoint of the process shares one timer wheel (CoAP retransmissions and deadlines): one timer in all. */
function sharedWheel(): TimerWheel {
  if (clientWheel === undefined) clientWheel = new TimerWheel({ resolutionMs: 10 });
  return clientWheel;
}

const defaultDtlsConnector: DtlsConnector = async (opts) => connectDtls(opts);
