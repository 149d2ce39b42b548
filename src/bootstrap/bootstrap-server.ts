/**
 * The LwM2M Bootstrap-Server (OMA TS Core 1.1 / 1.2 section 6.1 "Bootstrap Interface", Transport 1.1 / 1.2 section 6.2.1):
 * devices send a Bootstrap-Request (`POST /bs?ep=<name>[&pct=<format>]`) or, in 1.2, a Bootstrap-Pack-Request
 * (`GET /bspack?ep=<name>`); the server looks up the endpoint's configuration, answers, and provisions the device.
 *
 * ```ts
 * const store = new InMemoryBootstrapConfigStore({ '*': { deleteFirst: true, servers: [{ uri: 'coap://lwm2m:5683', shortServerId: 101 }] } });
 * const bs = new BootstrapServer({ port: 5685, configStore: store });
 * bs.on('finished', (e) => console.log(e.endpoint, 'bootstrapped'));
 * bs.on('failed', (e) => console.error(e.error.message));
 * await bs.start();
 * ```
 *
 * Where configurations come from: the provider set with {@link BootstrapServer.setConfigProvider} (a Node-RED flow may
 * answer it) when it returns one, else the {@link BootstrapConfigStore}. No configuration: the Bootstrap-Request is
 * answered 4.00 Bad Request (Transport 1.1 Table 6.2.1-1 lists 4.00 as the Bootstrap-Request failure; Leshan answers
 * the same) and a 'failed' event says why.
 */
import { EventEmitter } from 'events';
import { CancelledError, Lwm2mError, TimeoutError } from '../errors';
import { CoapEndpoint, CoapRequest, CoapResponse } from '../coap/types';
import { createUdpEndpoint } from '../coap/endpoint';
import { ObjectRegistry } from '../model/types';
import { ModelRegistry } from '../model/registry';
import { ContentFormat as CF } from '../content/formats';
import { Lwm2mVersion } from '../content/choose';
import { encode, hasCodec } from '../content/index';
import { Lwm2mPath } from '../model/path';
import { TimerWheel } from '../util/timer-wheel';
import { BootstrapConfig, BootstrapConfigStore, validateBootstrapConfig, ValidatedConfig, WRITE_FORMATS } from './config';
import { BootstrapConfigError, BootstrapFailedError, BootstrapStateError, BootstrapStep, NoBootstrapConfigError } from './errors';
import { BootstrapAccountSource, packRecords, planBootstrap } from './plan';
import { BootstrapSession, ProvisionedServer, SessionHost, StepEvent } from './session';

/** Credentials as our LwM2M server's security store takes them (the shape of src/server `SecurityInfo`). */
export interface ProvisionedSecurityInfo {
  endpoint: string;
  identity: string;
  key: Buffer;
}

/**
 * Where provisioned PSKs go: our LwM2M server's security store (src/server `InMemorySecurityStore` fits), so the device
 * can register over DTLS right after bootstrapping.
 */
export interface ProvisioningSecurityStore {
  add(info: ProvisionedSecurityInfo): void;
  remove?(endpoint: string): boolean;
  getByEndpoint?(endpoint: string): ProvisionedSecurityInfo | undefined;
  getByIdentity?(identity: string): ProvisionedSecurityInfo | undefined;
}

/** What a configuration provider (and the 'bootstrapRequest' event) is told about a request. */
export interface BootstrapRequestInfo {
  endpoint: string;
  address: string;
  port: number;
  /** True when the request came over DTLS; `identity` is then the PSK identity the device used. */
  secure: boolean;
  identity?: string;
  /**
   * What the request tells of the device's version: `1.1` when it carries `pct` (a 1.1+ parameter), `1.2` for a
   * Bootstrap-Pack-Request, undefined otherwise (Bootstrap-Discover tells it later).
   */
  version?: Lwm2mVersion;
  /** `pct=` of the Bootstrap-Request: the content format the device prefers (1.1+). */
  preferredFormat?: number;
  /** `request`: Bootstrap-Request (`POST /bs`); `pack`: Bootstrap-Pack-Request (`GET /bspack`, 1.2). */
  kind: 'request' | 'pack';
}

/** Answers with the configuration for a request, or undefined to fall back to the config store. */
export type BootstrapConfigProvider = (request: BootstrapRequestInfo) => BootstrapConfig | undefined | null | Promise<BootstrapConfig | undefined | null>;

export interface BootstrapServerOptions {
  /** Address of the UDP endpoint (default `::`, falling back to `0.0.0.0` on hosts without IPv6). */
  address?: string;
  /** UDP port (default 5685; 0 picks a free one). */
  port?: number;
  /** Create the server's own UDP endpoint (default true); false to serve only `endpoints`. */
  listen?: boolean;
  /** Transport options of the own UDP endpoint (ackTimeoutMs...). */
  coap?: Record<string, unknown>;
  /** More endpoints, e.g. CoAP over DTLS on 5686: `{ endpoint, secure: true }`. Closed with the server. */
  endpoints?: Array<CoapEndpoint | { endpoint: CoapEndpoint; secure?: boolean }>;
  configStore?: BootstrapConfigStore;
  configProvider?: BootstrapConfigProvider;
  /** Longest wait for the provider / store, ms (default 30 000); then the request is answered 5.03. */
  configTimeoutMs?: number;
  /** Deadline of each request to the device, ms (default: the CoAP endpoint's, MAX_TRANSMIT_WAIT = 93 s). */
  requestTimeoutMs?: number;
  /** Every session ends (finished or failed) within this time, ms (default 300 000). */
  sessionTimeoutMs?: number;
  /** Most sessions at once; more Bootstrap-Requests are answered 5.03 (default 100 000). */
  maxSessions?: number;
  /** Our LwM2M server's security store: PSKs provisioned for our server are added to it. */
  securityStore?: ProvisioningSecurityStore;
  /** Which server URIs are our LwM2M server's (default: all, when `securityStore` is given). */
  isOwnServer?: (uri: string) => boolean;
  /** Object definitions used to encode writes (default: the built-in objects). */
  registry?: ObjectRegistry;
  /** A timer wheel shared with other components (default: the server's own). */
  timerWheel?: TimerWheel;
}

export type BootstrapRequestEvent = BootstrapRequestInfo;

export interface FinishedEvent {
  endpoint: string;
  /** The device's LwM2M version as learnt (Bootstrap-Discover), configured or assumed. */
  version: Lwm2mVersion | undefined;
  /** The server accounts written (no secrets). */
  servers: ProvisionedServer[];
  /** Bootstrap-Read results by path (1.1+, when the configuration asks for reads). */
  reads: Record<string, unknown>;
  /** True for a Bootstrap-Pack (1.2): the configuration went in one answer. */
  pack: boolean;
  /** Content format of the writes (or the pack). */
  format: number | undefined;
  /** Security instance of the device's Bootstrap-Server account, which was left untouched (known or assumed). */
  bootstrapInstance: number | undefined;
  /** How that instance was learnt: `discover` (the device said), `config` (`bootstrapAccountInstanceId`), `assumed`. */
  bootstrapInstanceSource: BootstrapAccountSource | undefined;
  /**
   * What went well enough but should be looked at: the Bootstrap-Server account's place was a guess (LwM2M 1.0,
   * Bootstrap-Pack) and /0/0, /0/1 were kept clear, the configuration disagrees with the device's Discover answer, a
   * Delete of the account's instance was left out. Empty when nothing needs a look.
   */
  warnings: string[];
  durationMs: number;
}

export interface FailedEvent {
  endpoint: string;
  step: BootstrapStep;
  error: BootstrapFailedError;
  address: string;
  port: number;
}

export interface BootstrapServerEvents {
  bootstrapRequest: (event: BootstrapRequestEvent) => void;
  step: (event: StepEvent) => void;
  finished: (event: FinishedEvent) => void;
  failed: (event: FailedEvent) => void;
  /** Something went wrong that does not end a session (the security store refused a key...). */
  warning: (err: Error) => void;
}

export interface BootstrapSessionInfo {
  endpoint: string;
  address: string;
  port: number;
  secure: boolean;
  kind: 'request' | 'pack';
  state: BootstrapSession['state'];
  step: BootstrapStep;
  version: Lwm2mVersion | undefined;
  startedAt: number;
}

/** Default UDP port of a Bootstrap-Server (NoSec); DTLS conventionally on {@link DEFAULT_SECURE_BOOTSTRAP_PORT}. */
export const DEFAULT_BOOTSTRAP_PORT = 5685;
export const DEFAULT_SECURE_BOOTSTRAP_PORT = 5686;

const DEFAULTS = {
  port: DEFAULT_BOOTSTRAP_PORT,
  configTimeoutMs: 30_000,
  sessionTimeoutMs: 300_000,
  maxSessions: 100_000,
};
/** Formats of a Bootstrap-Pack (Core 1.2 6.1.7.7: SenML CBOR, SenML JSON or LwM2M CBOR). */
const PACK_FORMATS: readonly number[] = [CF.SENML_CBOR, CF.SENML_JSON, CF.LWM2M_CBOR];
const MAX_ENDPOINT_NAME = 1024;

interface Transport {
  endpoint: CoapEndpoint;
  secure: boolean;
}

interface Entry {
  session: BootstrapSession;
  kind: 'request' | 'pack';
}

function reply(code: string, reason?: string): CoapResponse {
  return reason ? { code, payload: Buffer.from(reason, 'utf8') } : { code };
}

function queryParam(query: readonly string[], name: string): string | undefined {
  const prefix = name + '=';
  for (const q of query) if (q.startsWith(prefix)) return q.slice(prefix.length);
  return undefined;
}

export interface BootstrapServer {
  on<E extends keyof BootstrapServerEvents>(event: E, listener: BootstrapServerEvents[E]): this;
  once<E extends keyof BootstrapServerEvents>(event: E, listener: BootstrapServerEvents[E]): this;
  off<E extends keyof BootstrapServerEvents>(event: E, listener: BootstrapServerEvents[E]): this;
  emit<E extends keyof BootstrapServerEvents>(event: E, ...args: Parameters<BootstrapServerEvents[E]>): boolean;
}

export class BootstrapServer extends EventEmitter implements SessionHost {
  readonly registry: ObjectRegistry;
  readonly requestTimeoutMs: number | undefined;
  configStore: BootstrapConfigStore | undefined;
  private provider: BootstrapConfigProvider | undefined;
  private readonly opts: BootstrapServerOptions;
  private readonly configTimeoutMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly maxSessions: number;
  private readonly wheel: TimerWheel;
  private readonly ownWheel: boolean;
  private readonly transports: Transport[] = [];
  private readonly pending: Transport[] = [];
  private mainTransport: Transport | undefined;
  private readonly active = new Map<string, Entry>();
  private state: 'new' | 'starting' | 'started' | 'closing' | 'closed' = 'new';

  constructor(opts: BootstrapServerOptions = {}) {
    super();
    this.opts = opts;
    this.registry = opts.registry ?? ModelRegistry.withBuiltins();
    this.configStore = opts.configStore;
    this.provider = opts.configProvider;
    this.requestTimeoutMs = positive('requestTimeoutMs', opts.requestTimeoutMs);
    this.configTimeoutMs = positive('configTimeoutMs', opts.configTimeoutMs) ?? DEFAULTS.configTimeoutMs;
    this.sessionTimeoutMs = positive('sessionTimeoutMs', opts.sessionTimeoutMs) ?? DEFAULTS.sessionTimeoutMs;
    this.maxSessions = positive('maxSessions', opts.maxSessions) ?? DEFAULTS.maxSessions;
    this.wheel = opts.timerWheel ?? new TimerWheel({ resolutionMs: 10 });
    this.ownWheel = opts.timerWheel === undefined;
    for (const e of opts.endpoints ?? []) {
      this.pending.push('endpoint' in e && typeof (e as { endpoint: CoapEndpoint }).endpoint?.request === 'function'
        ? { endpoint: (e as { endpoint: CoapEndpoint }).endpoint, secure: (e as { secure?: boolean }).secure === true }
        : { endpoint: e as CoapEndpoint, secure: false });
    }
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /** Binds the UDP endpoint (unless `listen: false`) and starts answering. */
  /** The start in progress, so that a close() arriving meanwhile waits for the socket to be bound and then frees it. */
  private starting: Promise<void> | undefined;

  start(): Promise<void> {
    if (this.state === 'started') return Promise.resolve();
    if (this.state === 'starting' && this.starting) return this.starting;
    if (this.state !== 'new') return Promise.reject(new BootstrapStateError(`cannot start a bootstrap server that is ${this.state}`));
    this.state = 'starting';
    this.starting = this.doStart().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    try {
      if (this.opts.listen !== false) {
        const endpoint = await this.bindUdp();
        this.mainTransport = this.attach({ endpoint, secure: false });
      }
      for (const t of this.pending.splice(0)) this.attach(t);
      this.state = 'started';
    } catch (err) {
      this.state = 'new';
      for (const t of this.transports.splice(0)) await t.endpoint.close().catch(() => undefined);
      this.mainTransport = undefined;
      throw err;
    }
  }

  private async bindUdp(): Promise<CoapEndpoint> {
    const port = this.opts.port ?? DEFAULTS.port;
    const address = this.opts.address ?? '::';
    const type = address.includes(':') ? 'udp6' : 'udp4';
    const coap = { ...(this.opts.coap ?? {}), timerWheel: this.wheel };
    try {
      return await createUdpEndpoint({ ...coap, address, port, type });
    } catch (err) {
      if (this.opts.address !== undefined) throw err;
      return createUdpEndpoint({ ...coap, address: '0.0.0.0', port, type: 'udp4' });
    }
  }

  /** Adds an endpoint, e.g. CoAP over DTLS: `bs.addEndpoint(dtlsEndpoint, { secure: true })`. Closed with the server. */
  addEndpoint(endpoint: CoapEndpoint, opts: { secure?: boolean } = {}): void {
    const t: Transport = { endpoint, secure: opts.secure === true };
    if (this.state === 'started') this.attach(t);
    else if (this.state === 'new' || this.state === 'starting') this.pending.push(t);
    else throw new BootstrapStateError(`cannot add an endpoint to a bootstrap server that is ${this.state}`);
  }

  private attach(t: Transport): Transport {
    this.transports.push(t);
    t.endpoint.setRequestHandler((req) => this.handleRequest(req, t));
    return t;
  }

  /** Address of the server's own UDP endpoint (or the first one attached). */
  address(): { address: string; port: number; family: string } {
    const t = this.mainTransport ?? this.transports[0];
    if (!t) throw new BootstrapStateError('bootstrap server is not started');
    return t.endpoint.address();
  }

  /**
   * Stops: every session in progress fails (CancelledError, 'failed' event), the deadline wheel stops, every endpoint is
   * closed (the port is free again at once).
   */
  async close(): Promise<void> {
    // Closed while binding: let the bind settle, then release what it opened (no socket left bound).
    if (this.starting) await this.starting.catch(() => undefined);
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    for (const { session } of [...this.active.values()]) {
      session.fail(session.step, undefined, 'the bootstrap server is closing', new CancelledError('bootstrap session'));
    }
    this.active.clear();
    const closing = [...this.transports.splice(0), ...this.pending.splice(0)].map((t) => t.endpoint.close().catch(() => undefined));
    await Promise.all(closing);
    this.mainTransport = undefined;
    if (this.ownWheel) this.wheel.close();
    this.state = 'closed';
  }

  // ------------------------------------------------------------------------------------------------ configuration

  /**
   * Sets (or removes, with undefined) the function asked for the configuration of each request. It may be async (a
   * Node-RED flow answering a msg); past `configTimeoutMs` the session fails and the device gets 5.03. When it returns
   * undefined or null, the config store is asked.
   */
  setConfigProvider(provider: BootstrapConfigProvider | undefined): void {
    if (provider !== undefined && typeof provider !== 'function') throw new Lwm2mError('INVALID_ARGUMENT', 'the bootstrap config provider must be a function');
    this.provider = provider;
  }

  setConfigStore(store: BootstrapConfigStore | undefined): void {
    this.configStore = store;
  }

  /** Sessions in progress. */
  sessions(): BootstrapSessionInfo[] {
    return [...this.active.values()].map(({ session: s, kind }) => ({
      endpoint: s.endpoint, address: s.peer.address, port: s.peer.port, secure: s.secure, kind,
      state: s.state, step: s.step, version: s.version, startedAt: s.startedAt,
    }));
  }

  /** Ends the session of an endpoint (it fails with CancelledError). Returns whether there was one. */
  cancel(endpoint: string): boolean {
    const e = this.active.get(endpoint);
    if (!e) return false;
    e.session.fail(e.session.step, undefined, 'cancelled', new CancelledError(`bootstrap of ${endpoint}`));
    return true;
  }

  // ------------------------------------------------------------------------------------------------ requests

  private handleRequest(req: CoapRequest, t: Transport): CoapResponse | Promise<CoapResponse> {
    if (this.state !== 'started') return reply('5.03', 'bootstrap server is not running');
    const p = req.path;
    if (p.length === 1 && p[0] === 'bs') return req.method === 'POST' ? this.onBootstrapRequest(req, t, 'request') : reply('4.05');
    if (p.length === 1 && p[0] === 'bspack') return req.method === 'GET' ? this.onBootstrapRequest(req, t, 'pack') : reply('4.05');
    return reply('4.04');
  }

  private async onBootstrapRequest(req: CoapRequest, t: Transport, kind: 'request' | 'pack'): Promise<CoapResponse> {
    const endpoint = queryParam(req.query, 'ep');
    if (endpoint === undefined || endpoint === '') return reply('4.00', 'missing endpoint name (ep=)');
    if (endpoint.length > MAX_ENDPOINT_NAME) return reply('4.00', `endpoint name longer than ${MAX_ENDPOINT_NAME} characters`);
    let pct: number | undefined;
    if (kind === 'request') {
      const v = queryParam(req.query, 'pct');
      if (v !== undefined) {
        if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) return reply('4.00', `pct=${v.slice(0, 20)} is not a content format number`);
        pct = Number(v);
        // Transport 1.1 Table 6.2.1-1: 4.15 when the preferred format cannot be used.
        if (!WRITE_FORMATS.includes(pct) || !hasCodec(pct)) return reply('4.15', `content format ${pct} is not supported for bootstrap`);
      }
    }
    let packFormat: number | undefined;
    if (kind === 'pack') {
      packFormat = req.accept ?? CF.SENML_CBOR;
      if (!PACK_FORMATS.includes(packFormat)) return reply('4.06', `a Bootstrap-Pack is sent as SenML CBOR, SenML JSON or LwM2M CBOR, not ${packFormat}`);
    }
    const previous = this.active.get(endpoint);
    if (previous === undefined && this.active.size >= this.maxSessions) return reply('5.03', 'too many bootstrap sessions in progress');

    const info: BootstrapRequestInfo = {
      endpoint, address: req.peer.address, port: req.peer.port, secure: t.secure, kind,
      ...(req.peer.identity !== undefined ? { identity: req.peer.identity } : {}),
      ...(kind === 'pack' ? { version: '1.2' as const } : pct !== undefined ? { version: '1.1' as const, preferredFormat: pct } : {}),
    };
    // A new Bootstrap-Request replaces a session in progress for the same endpoint.
    if (previous) previous.session.fail(previous.session.step, undefined, 'replaced by a new Bootstrap-Request from the device', new CancelledError(`bootstrap of ${endpoint}`));
    const session = new BootstrapSession(this, endpoint, t.endpoint, { ...req.peer }, t.secure, pct);
    if (kind === 'pack') session.version = '1.2';
    this.active.set(endpoint, { session, kind });
    session.timer = this.wheel.scheduleIn(this.sessionTimeoutMs, onDeadline, { session, ms: this.sessionTimeoutMs });
    this.safeEmit('bootstrapRequest', { ...info });

    let config: ValidatedConfig;
    try {
      const raw = await this.lookup(info);
      if (session.ended) return reply('5.03', 'bootstrap session ended while its configuration was looked up');
      if (raw === undefined || raw === null) {
        const err = new NoBootstrapConfigError(endpoint);
        session.fail('config', undefined, err.message, err);
        return reply('4.00', `no bootstrap configuration for ${endpoint}`);
      }
      config = validateBootstrapConfig(raw, { registry: this.registry });
      if (config.bootstrapIdentity !== undefined && (!t.secure || req.peer.identity !== config.bootstrapIdentity)) {
        const why = t.secure ? `PSK identity "${req.peer.identity ?? ''}" is not the configured one` : 'the configuration requires DTLS';
        session.fail('config', undefined, `unauthorized Bootstrap-Request: ${why}`);
        return reply('4.00', 'Unauthorized');
      }
      this.checkIdentities(endpoint, config);
    } catch (err) {
      if (session.ended) return reply('5.03', 'bootstrap session ended while its configuration was looked up');
      if (err instanceof TimeoutError) {
        session.fail('config', undefined, `no configuration within ${this.configTimeoutMs} ms (provider did not answer)`, err);
        return reply('5.03', 'bootstrap configuration not available in time');
      }
      const msg = err instanceof Lwm2mError ? err.message : `configuration lookup failed: ${(err as Error)?.message ?? String(err)}`;
      session.fail('config', undefined, msg, err);
      // The details go to the 'failed' event, not to the device.
      return reply('5.00', 'bootstrap configuration error');
    }
    if (kind === 'pack') return this.servePack(session, config, packFormat!);
    // Core 1.1 6.1.3: the Bootstrap-Server answers the Bootstrap-Request, then starts its requests. The endpoint sends our
    // answer as soon as this promise resolves; setImmediate runs after that.
    setImmediate(() => void session.run(config));
    return { code: '2.04' };
  }

  /**
   * Bootstrap-Pack-Request (Core 1.2 6.1.7.7, Transport 1.2 `GET /bspack?ep=`): the whole configuration in one answer,
   * a SenML pack rooted at `/`. There is no Bootstrap-Discover in this exchange, so where the device keeps its
   * Bootstrap-Server account comes from the configuration (`bootstrapAccountInstanceId`); without it /0/0 and /0/1 are
   * kept clear and the result carries a warning (plan.ts). Deletes cannot be carried.
   */
  private servePack(session: BootstrapSession, config: ValidatedConfig, format: number): CoapResponse {
    session.step = 'pack';
    let payload: Buffer;
    try {
      const plan = planBootstrap(config, undefined, this.registry, { noLayoutReason: 'a Bootstrap-Pack-Request comes without Bootstrap-Discover' });
      session.plan = plan;
      session.warnings.push(...plan.warnings);
      session.servers = plan.servers.map((p) => ({
        uri: p.server.uri, shortServerId: p.server.shortServerId, securityMode: p.server.securityMode, identity: p.server.identity,
        securityInstance: p.securityInstance, serverInstance: p.serverInstance,
      }));
      payload = encode(format, packRecords(plan), { registry: this.registry, path: Lwm2mPath.ROOT });
    } catch (err) {
      session.fail('pack', '/bspack', `cannot build the Bootstrap-Pack: ${(err as Error).message}`, err);
      return reply('5.00', 'cannot build the Bootstrap-Pack');
    }
    session.writeFormat = format;
    session.config = config;
    this.provision(session);
    this.step({ endpoint: session.endpoint, step: 'pack', path: '/bspack', code: '2.05', format });
    session.state = 'finished';
    this.endSession(session, undefined);
    return { code: '2.05', contentFormat: format, payload };
  }

  private lookup(info: BootstrapRequestInfo): Promise<BootstrapConfig | undefined | null> {
    const provider = this.provider;
    const store = this.configStore;
    const run = async (): Promise<BootstrapConfig | undefined | null> => {
      if (provider) {
        const c = await provider({ ...info });
        if (c !== undefined && c !== null) return c;
      }
      return store ? store.get(info.endpoint) : undefined;
    };
    return new Promise((resolve, reject) => {
      const h = this.wheel.scheduleIn(this.configTimeoutMs, () => reject(new TimeoutError(`bootstrap configuration of ${info.endpoint}`, this.configTimeoutMs)));
      run().then(
        (v) => { this.wheel.cancel(h); resolve(v); },
        (e) => { this.wheel.cancel(h); reject(e); },
      );
    });
  }

  private ownPsks(config: { servers: ReadonlyArray<{ uri: string; securityMode: string; identity?: string; key?: Buffer }> }): Array<{ uri: string; identity: string; key: Buffer }> {
    if (!this.opts.securityStore) return [];
    const own = this.opts.isOwnServer ?? ((): boolean => true);
    const out: Array<{ uri: string; identity: string; key: Buffer }> = [];
    for (const s of config.servers) {
      if (s.securityMode === 'psk' && s.identity !== undefined && s.key !== undefined && own(s.uri)) out.push({ uri: s.uri, identity: s.identity, key: s.key });
    }
    return out;
  }

  /** A PSK identity already given to another endpoint in our server's store would make the device's DTLS fail. */
  private checkIdentities(endpoint: string, config: ValidatedConfig): void {
    const store = this.opts.securityStore;
    if (!store?.getByIdentity) return;
    for (const p of this.ownPsks(config)) {
      const owner = store.getByIdentity(p.identity);
      if (owner && owner.endpoint !== endpoint) {
        throw new BootstrapConfigError('servers', `PSK identity "${p.identity}" already belongs to endpoint "${owner.endpoint}" in the LwM2M server's security store`);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ SessionHost

  step(event: StepEvent): void {
    this.safeEmit('step', event);
  }

  /**
   * Before Bootstrap-Finish (or when a Bootstrap-Pack is served): the PSK of our server's account goes to our server's
   * security store, so the device can register over DTLS at once. An account on our server in NoSec mode removes old
   * credentials of the endpoint instead (our server would otherwise insist on DTLS). Returns how to undo it.
   */
  provision(session: BootstrapSession): () => void {
    const store = this.opts.securityStore;
    const cfg = session.config;
    if (!store || !cfg) return noop;
    const own = this.opts.isOwnServer ?? ((): boolean => true);
    const psks = this.ownPsks(cfg);
    const previous = store.getByEndpoint?.(session.endpoint);
    const restore = (): void => {
      try {
        if (previous) store.add(previous);
        else store.remove?.(session.endpoint);
      } catch (err) {
        this.warn(err as Error);
      }
    };
    if (psks.length === 0) {
      if (previous === undefined || !store.remove || !cfg.servers.some((s) => s.securityMode === 'nosec' && own(s.uri))) return noop;
      store.remove(session.endpoint);
      return restore;
    }
    if (psks.length > 1) this.warn(new Error(`${session.endpoint}: ${psks.length} PSK accounts on our server; the security store keeps one per endpoint (${psks[0].uri})`));
    try {
      store.add({ endpoint: session.endpoint, identity: psks[0].identity, key: psks[0].key });
    } catch (err) {
      this.warn(new Error(`${session.endpoint}: the security store refused the provisioned PSK: ${(err as Error)?.message ?? String(err)}`));
      return noop;
    }
    return restore;
  }

  ended(session: BootstrapSession, error: BootstrapFailedError | undefined): void {
    this.endSession(session, error);
  }

  private endSession(session: BootstrapSession, error: BootstrapFailedError | undefined): void {
    this.wheel.cancel(session.timer);
    session.timer = undefined;
    const entry = this.active.get(session.endpoint);
    if (entry?.session === session) this.active.delete(session.endpoint);
    const kind = entry?.session === session ? entry.kind : 'request';
    if (error) {
      this.safeEmit('failed', { endpoint: session.endpoint, step: error.step, error, address: session.peer.address, port: session.peer.port });
    } else {
      this.safeEmit('finished', {
        endpoint: session.endpoint, version: session.version, servers: session.servers, reads: { ...session.reads },
        pack: kind === 'pack', format: session.writeFormat,
        bootstrapInstance: session.plan?.bootstrapInstance, bootstrapInstanceSource: session.plan?.bootstrapInstanceSource,
        warnings: [...session.warnings], durationMs: Date.now() - session.startedAt,
      });
    }
  }

  private warn(err: Error): void {
    if (this.listenerCount('warning') > 0) this.safeEmit('warning', err);
  }

  /** Listeners' errors must not break a session: they are rethrown on the next tick, like an EventEmitter would. */
  private safeEmit<E extends keyof BootstrapServerEvents>(event: E, ...args: Parameters<BootstrapServerEvents[E]>): void {
    try {
      this.emit(event, ...args);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }
}

function noop(): void {
  /* nothing to undo */
}

function onDeadline(arg: { session: BootstrapSession; ms: number }): void {
  const s = arg.session;
  s.timer = undefined;
  s.fail(s.step, undefined, `the session did not end within ${arg.ms} ms`, new TimeoutError(`bootstrap session of ${s.endpoint}`, arg.ms));
}

function positive(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Lwm2mError('INVALID_ARGUMENT', `bootstrap server option ${name} must be a positive number (got ${String(v)})`);
  return v;
}
