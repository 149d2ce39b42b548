/**
 * The client's account with one LwM2M Server: the registration state machine (OMA TS Core 1.1 / 1.2 6.2 "Client
 * Registration Interface": Register, Update, De-register) and queue mode (Transport 1.1 / 1.2 "Queue Mode Operation":
 * after the last exchange the client stays reachable for MAX_TRANSMIT_WAIT, then may go offline until it has something
 * to send; any uplink message, an Update or a notification, tells the server it is awake).
 *
 *   registering --2.01--> registered --(awake window over, queue mode)--> sleeping --(something to send)--> registered
 *        ^  |                 |  Update before the lifetime runs out; 4.04 or a failure -> register again
 *        |  +--failure--> error --(back-off)--> registering
 *
 * Timers: two reusable {@link Task}s on the shared scheduler (the next Update / retry, and the end of the awake window).
 */
import { CoapEndpoint, CoapResponse, Peer } from '../coap/types';
import { CancelledError, CoapResponseError, Lwm2mError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { AttributeStore } from './attributes';
import { announcedFormats, ClientVersion } from './content';
import { ContentFormat as CF } from '../content/formats';
import { ServerContext } from './handlers/context';
import { Task, Scheduler } from './scheduler';
import { ObjectTree } from './object-tree';
import { Observation, ObservationManager } from './observe';
import { GatedSocket } from './gated-socket';

export type SessionState = 'idle' | 'registering' | 'registered' | 'sleeping' | 'error' | 'disabled' | 'stopped';

/** What a session needs from its client. */
export interface SessionHost {
  readonly endpointName: string;
  readonly scheduler: Scheduler;
  readonly tree: ObjectTree;
  readonly observations: ObservationManager;
  readonly options: SessionOptions;
  /**
   * The Register / Update payload (object links), announcing the content formats `ct` (default: all the client has),
   * and a counter bumped whenever it changes.
   */
  registrationLinks(version: ClientVersion, ct?: readonly number[]): string;
  readonly objectsGeneration: number;
  /** The transport for this server: endpoint (possibly shared), peer address, and the gate for queue mode. */
  connect(session: ServerSession): Promise<{ endpoint: CoapEndpoint; peer: Peer; gate?: GatedSocket }>;
  /** Called when a session's state changes (the client derives its own state). */
  sessionStateChanged(session: ServerSession, previous: SessionState): void;
  event(name: string, data: unknown): void;
  failure(err: unknown, session: ServerSession): void;
  /** Registration failed for good (`maxAttempts` reached): the client may fall back to bootstrap. */
  registrationFailed(session: ServerSession): boolean;
}

export interface SessionOptions {
  version: ClientVersion;
  /**
   * Fall back to a lower version when the server refuses the registration with 4.12 / 4.00 (default true); before a
   * 4.00 makes it fall back, a Register announcing several content formats is retried with one.
   */
  versionFallback: boolean;
  queueMode: boolean;
  awakeTimeMs: number;
  requestTimeoutMs?: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Consecutive failed registrations before `registrationFailed` is asked (0: never). */
  maxAttempts: number;
  confirmableNotifications: boolean;
  /** Update this long before the lifetime runs out (default: 10% of it, at least 1 s, at most 93 s). */
  updateMarginMs?: number;
}

const LOWER: Record<ClientVersion, ClientVersion | undefined> = { '1.2': '1.1', '1.1': '1.0', '1.0': undefined };

/**
 * The one content format announced to a server that takes no list in `ct` (see {@link ServerSession.register}): SenML
 * JSON, the 1.1 multi-value format (Send, Read/Write/Observe-Composite, timestamps) that every single-`ct` server
 * reads (Wakaama's server takes 110 and 11543 in every 1.1 release, 112 only in recent ones); LwM2M JSON in 1.0.
 */
export function singleFormat(version: ClientVersion): number {
  const all = announcedFormats(version);
  return all.includes(CF.SENML_JSON) ? CF.SENML_JSON : all[0];
}
/** RFC 7252 4.8.2 MAX_TRANSMIT_WAIT with default parameters: the longest a confirmable exchange can take. */
export const MAX_TRANSMIT_WAIT_MS = 93_000;

export class ServerSession implements ServerContext {
  readonly attributes = new AttributeStore();
  state: SessionState = 'idle';
  version: ClientVersion;
  /** Location-Path of the registration (`['rd', 'x1']`), while registered. */
  location: string[] | undefined;
  endpoint: CoapEndpoint | undefined;
  peer: Peer | undefined;
  private gate: GatedSocket | undefined;
  private readonly timer: Task;
  private readonly sleepTask: Task;
  private attempts = 0;
  private inFlight: Promise<void> | undefined;
  private updateAgain = false;
  private needRegister = false;
  private sentLifetime: number | undefined;
  private sentBinding: string | undefined;
  private sentObjects = -1;
  private forceUpdate = false;
  /**
   * The server refused a Register whose root link listed several content formats (`ct="60 110 112 11542 11543"`),
   * so this session announces one ({@link singleFormat}), in Register and Update, from then on.
   */
  singleCt = false;
  /** Registered at least once since start (for 'registered' vs 'updated' events). */
  registrations = 0;
  updates = 0;
  lastError: unknown;

  constructor(
    private readonly host: SessionHost,
    /** Short Server ID (Server object resource 0). */
    readonly ssid: number,
    /** Server URI as in the Security object. */
    readonly uri: string,
    readonly securityInstance: number,
    readonly serverInstance: number,
  ) {
    this.version = host.options.version;
    this.timer = new Task(() => this.onTimer());
    this.sleepTask = new Task(() => this.sleep());
  }

  get confirmableNotifications(): boolean { return this.host.options.confirmableNotifications; }

  /** Server object defaults for observations (resources 2 and 3). */
  attributeDefaults(): { pmin?: number; pmax?: number } {
    const inst = this.host.tree.instance(1, this.serverInstance);
    const pmin = inst?.get(2);
    const pmax = inst?.get(3);
    return { pmin: typeof pmin === 'number' ? pmin : undefined, pmax: typeof pmax === 'number' ? pmax : undefined };
  }

  /** Registration lifetime from the Server object (seconds). */
  lifetime(): number {
    const v = this.host.tree.get(new Lwm2mPath([1, this.serverInstance, 1]));
    return typeof v === 'number' && v >= 0 ? v : 86400;
  }

  /** Binding resource of the Server object (`U`...), without the 1.0 queue-mode letter. */
  binding(): string {
    const v = this.host.tree.get(new Lwm2mPath([1, this.serverInstance, 7]));
    const b = typeof v === 'string' && v !== '' ? v : 'U';
    return b.replace(/Q/g, '') || 'U';
  }

  queueMode(): boolean {
    const v = this.host.tree.get(new Lwm2mPath([1, this.serverInstance, 7]));
    return this.host.options.queueMode || (typeof v === 'string' && v.includes('Q'));
  }

  private setState(s: SessionState): void {
    if (s === this.state) return;
    const prev = this.state;
    this.state = s;
    this.host.sessionStateChanged(this, prev);
  }

  /** Starts registering (now, or after `delayMs`). */
  start(delayMs = 0): void {
    if (this.state === 'stopped') this.state = 'idle';
    this.attempts = 0;
    if (delayMs > 0) { this.setState('registering'); this.host.scheduler.schedule(this.timer, delayMs); return; }
    void this.register();
  }

  private async ensureTransport(): Promise<void> {
    if (this.endpoint !== undefined) return;
    const t = await this.host.connect(this);
    this.endpoint = t.endpoint;
    this.peer = t.peer;
    this.gate = t.gate;
    this.gate?.join(this);
  }

  private query(full: boolean): string[] {
    const q: string[] = [];
    const lt = this.lifetime();
    const b = this.binding();
    const queue = this.queueMode();
    // 1.0: queue mode is the Q of the binding (UQ); 1.1+: a separate Q parameter (Core 1.1 6.2.1 Table 6.2.1-1).
    const bParam = this.version === '1.0' && queue ? b + 'Q' : b;
    if (full) {
      q.push(`ep=${this.host.endpointName}`, `lt=${lt}`, `lwm2m=${this.version}`, `b=${bParam}`);
      if (queue && this.version !== '1.0') q.push('Q');
    } else {
      // Update carries only what changed (Core 1.1 6.2.2)
      if (lt !== this.sentLifetime) q.push(`lt=${lt}`);
      if (bParam !== this.sentBinding) q.push(`b=${bParam}`);
    }
    this.sentLifetime = lt;
    this.sentBinding = bParam;
    return q;
  }

  /** Content formats the registration announces: all the client has, or one when the server takes no list. */
  private announced(): readonly number[] {
    return this.singleCt ? [singleFormat(this.version)] : announcedFormats(this.version);
  }

  /** Register (POST /rd), falling back to lower versions on 4.12 / 4.00 (Core 1.1 6.2.1: a server refusing the version). */
  async register(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'disabled') return;
    if (this.inFlight !== undefined) { await this.inFlight; return; }
    this.host.scheduler.cancel(this.timer);
    this.setState('registering');
    const run = (async () => {
      try {
        await this.ensureTransport();
        for (;;) {
          this.wake(false);
          const objects = this.host.objectsGeneration;
          const ct = this.announced();
          const payload = Buffer.from(this.host.registrationLinks(this.version, ct));
          const res = await this.endpoint!.request(this.peer!, {
            method: 'POST', path: ['rd'], query: this.query(true), contentFormat: 40, payload,
            timeoutMs: this.host.options.requestTimeoutMs,
          });
          if ((this.state as SessionState) === 'stopped') return;
          if (res.code === '2.01') {
            if (res.locationPath === undefined || res.locationPath.length === 0) {
              throw new CoapResponseError('2.01', 'Register', 'no Location-Path in the answer');
            }
            // A new registration: the server dropped the previous one and its observations (Core 1.1 6.2.1).
            this.host.observations.removeOwner(this);
            this.location = res.locationPath;
            this.sentObjects = objects;
            this.attempts = 0;
            this.registrations++;
            this.setState('registered');
            this.host.event('registered', { server: this.uri, ssid: this.ssid, location: '/' + this.location.join('/'), version: this.version });
            this.scheduleUpdate();
            this.touch();
            return;
          }
          // RFC 7252 7.2.1 lets `ct` hold a space-separated list in quotes, and Core 1.1 6.2.1 has the client announce its
          // formats with it, but some servers take exactly one value: Wakaama's compares the ct of the root link with
          // single numbers (core/registration.c, prv_parseLinkAttributes) and answers any other value with 4.00. A 4.00
          // to a list is retried with one format at the same version first; only a refusal of that falls back to a
          // lower version (which would lose SenML, Send and the composite operations).
          if (res.code === '4.00' && !this.singleCt && ct.length > 1 && this.host.options.versionFallback) {
            this.singleCt = true;
            this.host.event('ct-fallback', { server: this.uri, version: this.version, from: ct, to: this.announced(), code: res.code });
            continue;
          }
          const lower = LOWER[this.version];
          if ((res.code === '4.12' || res.code === '4.00') && lower !== undefined && this.host.options.versionFallback) {
            this.host.event('version-fallback', { server: this.uri, from: this.version, to: lower, code: res.code });
            this.version = lower;
            continue;
          }
          throw new CoapResponseError(res.code, `Register at ${this.uri}`, res.payload.length > 0 ? res.payload.toString('utf8').slice(0, 200) : undefined);
        }
      } catch (err) {
        this.failed(err);
      }
    })();
    this.inFlight = run;
    try { await run; } finally { this.inFlight = undefined; }
  }

  /** Update (POST to the registration's location) with what changed. `force`: send even if nothing changed. */
  async update(force = false): Promise<void> {
    if (this.state !== 'registered' && this.state !== 'sleeping') return;
    if (force) this.forceUpdate = true;
    if (this.inFlight !== undefined) { this.updateAgain = true; return; }
    this.host.scheduler.cancel(this.timer);
    const run = (async () => {
      try {
        this.wake(false);
        const objects = this.host.objectsGeneration;
        const withLinks = objects !== this.sentObjects;
        const query = this.query(false);
        const res = await this.endpoint!.request(this.peer!, {
          method: 'POST', path: this.location!, query, contentFormat: withLinks ? 40 : undefined,
          payload: withLinks ? Buffer.from(this.host.registrationLinks(this.version, this.announced())) : undefined,
          timeoutMs: this.host.options.requestTimeoutMs,
        });
        this.forceUpdate = false;
        if ((this.state as SessionState) === 'stopped') return;
        if (res.code === '2.04') {
          this.sentObjects = objects;
          this.updates++;
          this.host.event('updated', { server: this.uri, ssid: this.ssid, location: '/' + this.location!.join('/') });
          this.scheduleUpdate();
          this.touch();
          return;
        }
        // 4.04: the server lost the registration; anything else: register again too (Core 1.1 6.2.2).
        this.host.event('update-failed', { server: this.uri, code: res.code });
        this.location = undefined;
        this.sentLifetime = undefined;
        this.sentBinding = undefined;
        this.needRegister = true;
      } catch (err) {
        this.location = undefined;
        this.failed(err);
      }
    })();
    this.inFlight = run;
    try { await run; } finally { this.inFlight = undefined; }
    if (this.needRegister) { this.needRegister = false; this.updateAgain = false; await this.register(); return; }
    if (this.updateAgain) { this.updateAgain = false; await this.update(this.forceUpdate); }
  }

  /** The registration's parameters or object links changed: send an Update soon. */
  changed(): void {
    if (this.state === 'registered' || this.state === 'sleeping') this.host.scheduler.schedule(this.timer, 0);
  }

  /** De-register (DELETE on the location) and stop. */
  async stop(deregister = true): Promise<void> {
    const wasRegistered = this.location !== undefined && (this.state === 'registered' || this.state === 'sleeping');
    this.host.scheduler.cancel(this.timer);
    this.host.scheduler.cancel(this.sleepTask);
    this.host.observations.removeOwner(this);
    // An exchange in flight is not waited for: it ends when the transport closes, and its outcome is ignored.
    const loc = this.location;
    this.location = undefined;
    this.setState('stopped');
    if (deregister && wasRegistered && loc !== undefined && this.endpoint !== undefined) {
      this.gate?.wake(this);
      try {
        await this.endpoint.request(this.peer!, { method: 'DELETE', path: loc, timeoutMs: this.host.options.requestTimeoutMs ?? 10_000 });
        this.host.event('deregistered', { server: this.uri, ssid: this.ssid });
      } catch (err) {
        this.host.failure(err, this);
      }
    }
  }

  /** Disable (Server object resource 4): de-register and stay silent for Disable Timeout (resource 5, default 1 day). */
  async disable(): Promise<void> {
    const t = this.host.tree.get(new Lwm2mPath([1, this.serverInstance, 5]));
    const seconds = typeof t === 'number' && t >= 0 ? t : 86400;
    await this.stop(true);
    this.state = 'disabled';
    this.host.sessionStateChanged(this, 'stopped');
    this.host.scheduler.schedule(this.timer, seconds * 1000);
  }

  /** Forgets the transport (the endpoint was closed). */
  detach(): void {
    this.gate?.leave(this);
    this.endpoint = undefined;
    this.peer = undefined;
    this.gate = undefined;
  }

  /** The (DTLS) transport closed: forget it and register again over a new one. */
  transportLost(): void {
    this.detach();
    if (this.state === 'registered' || this.state === 'sleeping' || this.state === 'registering') {
      this.failed(new Lwm2mError('TRANSPORT_CLOSED', `${this.uri}: the secure session was closed`));
    }
  }

  private failed(err: unknown): void {
    if (this.state === 'stopped' || this.state === 'disabled') return;
    this.lastError = err;
    this.location = undefined;
    this.host.observations.removeOwner(this);
    this.attempts++;
    this.setState('error');
    this.host.failure(err, this);
    if (this.host.options.maxAttempts > 0 && this.attempts >= this.host.options.maxAttempts && this.host.registrationFailed(this)) {
      return;
    }
    const base = Math.min(this.host.options.retryMaxMs, this.host.options.retryInitialMs * 2 ** Math.min(this.attempts - 1, 30));
    // +-10% jitter so a fleet does not retry in lock step
    const delay = Math.round(base * (0.9 + 0.2 * Math.random()));
    this.host.event('retry', { server: this.uri, attempt: this.attempts, delayMs: delay });
    this.host.scheduler.schedule(this.timer, delay);
  }

  private scheduleUpdate(): void {
    const lt = this.lifetime();
    if (lt <= 0) return; // 1.2: lifetime 0 is infinite
    const ltMs = lt * 1000;
    const margin = this.host.options.updateMarginMs ?? Math.min(MAX_TRANSMIT_WAIT_MS, Math.max(1000, ltMs * 0.1));
    this.host.scheduler.schedule(this.timer, Math.max(ltMs / 2, ltMs - margin));
  }

  private onTimer(): void {
    switch (this.state) {
      case 'registered':
      case 'sleeping':
        void this.update(this.forceUpdate);
        break;
      case 'disabled':
        this.state = 'idle';
        this.start();
        break;
      default:
        void this.register();
    }
  }

  // ---- queue mode -------------------------------------------------------------------------------------------------

  /** Traffic with the server: the awake window starts again. */
  touch(): void {
    if (!this.queueMode()) return;
    if (this.state !== 'registered') return;
    this.host.scheduler.schedule(this.sleepTask, this.host.options.awakeTimeMs);
  }

  private sleep(): void {
    if (this.state !== 'registered' || this.inFlight !== undefined) return;
    this.gate?.sleep(this);
    this.setState('sleeping');
  }

  /** Wakes up to send (a notification, a Send, an Update). */
  wake(andTouch = true): void {
    this.gate?.wake(this);
    if (this.state === 'sleeping') this.setState('registered');
    if (andTouch) this.touch();
  }

  get sleeping(): boolean { return this.state === 'sleeping'; }

  // ---- notifications ----------------------------------------------------------------------------------------------

  async sendNotification(obs: Observation, res: CoapResponse, confirmable: boolean): Promise<void> {
    if (this.endpoint === undefined || (this.state !== 'registered' && this.state !== 'sleeping')) {
      throw new CancelledError('notification: not registered');
    }
    this.wake();
    await this.endpoint.notify(obs.peer, obs.token, res, confirmable);
  }

  /** Sends a request to the server (Send operation), waking up first. */
  async request(req: Parameters<CoapEndpoint['request']>[1]): Promise<ReturnType<CoapEndpoint['request']> extends Promise<infer R> ? R : never> {
    if (this.endpoint === undefined || this.peer === undefined) throw new Lwm2mError('CLIENT_STATE', 'not connected');
    this.wake();
    const res = await this.endpoint.request(this.peer, { timeoutMs: this.host.options.requestTimeoutMs, ...req });
    this.touch();
    return res;
  }
}
