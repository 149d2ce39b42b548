/**
 * Client-initiated bootstrap (OMA TS Core 1.1 / 1.2 6.1.3 / 6.1.7): Bootstrap-Request `POST /bs?ep=...(&pct=...)`,
 * then the Bootstrap-Server writes / reads / discovers / deletes (handlers/bootstrap.ts) and ends with Bootstrap-Finish
 * (`POST /bs`), which the client accepts (2.04) only for a usable configuration (4.06 Not Acceptable otherwise,
 * Core 1.1 6.1.7.6). LwM2M 1.2 also has Bootstrap-Pack-Request: the client `GET /bspack?ep=...` and the server
 * answers with the whole configuration in one SenML pack (Core 1.2 6.1.7.7).
 */
import { CoapEndpoint, Peer } from '../coap/types';
import { CancelledError, CoapResponseError, TimeoutError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ContentFormat as CF } from '../content/formats';
import { ClientVersion, decodeRecords } from './content';
import { BootstrapContext } from './handlers/bootstrap';
import { applyBootstrapRecords } from './handlers/bootstrap';
import { HandlerHost } from './handlers/context';
import { Task, Scheduler } from './scheduler';
import { SecurityMode } from './builtins';
import { GatedSocket } from './gated-socket';

export interface BootstrapOptions {
  /** `coap://host:port` or `coaps://host:port` of the Bootstrap-Server. */
  uri: string;
  /** PSK identity / key for coaps:// (key as a Buffer or hex text). */
  identity?: string | Buffer;
  key?: string | Buffer;
  /** Bootstrap at every start, even with LwM2M Server accounts configured (default: only without one). */
  always?: boolean;
  /** LwM2M 1.2 Bootstrap-Pack-Request instead of Bootstrap-Request (default false). */
  pack?: boolean;
  /** Preferred content format sent as `pct=` (1.1+, default 112 SenML CBOR; 0 to leave it out). */
  pct?: number;
  /** How long to wait for Bootstrap-Finish after the request was accepted, in ms (default 60,000). */
  finishTimeoutMs?: number;
}

/** What a bootstrap session needs from its client. */
export interface BootstrapHost extends HandlerHost {
  readonly endpointName: string;
  readonly scheduler: Scheduler;
  readonly options: { requestTimeoutMs?: number };
  connect(session: BootstrapSession): Promise<{ endpoint: CoapEndpoint; peer: Peer; gate?: GatedSocket }>;
  serverAccounts(): { ssid: number; uri: string; securityInstance: number; serverInstance: number }[];
  event(name: string, data: unknown): void;
}

const URI_RE = /^coaps?:\/\/(\[[0-9a-fA-F:.]+\]|[^:/?#\s]+)(:\d{1,5})?\/?$/;

/**
 * Checks the configuration left by a Bootstrap-Server: at least one LwM2M Server account (a Security instance that is
 * not the Bootstrap-Server's and a Server instance with the same Short Server ID), each with a URI we can reach and a
 * security mode we implement (NoSec, or PSK with identity and key). Throws CoapResponseError 4.06 otherwise.
 */
export function validateBootstrapConfig(host: BootstrapHost): void {
  const tree = host.tree;
  const bad = (why: string) => new CoapResponseError('4.06', 'Bootstrap-Finish', why);
  for (const si of tree.instanceIds(0)) {
    const sec = tree.instance(0, si)!;
    if (sec.get(1) === true) continue;
    if (typeof sec.get(10) !== 'number') throw bad(`Security /0/${si} has no Short Server ID`);
  }
  const accounts = host.serverAccounts();
  if (accounts.length === 0) throw bad('no LwM2M Server account (Security and Server instances with the same Short Server ID)');
  for (const a of accounts) {
    const sec = tree.instance(0, a.securityInstance)!;
    if (!URI_RE.test(a.uri)) throw bad(`Security /0/${a.securityInstance}: unsupported server URI "${a.uri}"`);
    const mode = sec.get(2);
    if (mode === SecurityMode.PSK) {
      const id = sec.get(3);
      const key = sec.get(5);
      if (!Buffer.isBuffer(id) || id.length === 0 || !Buffer.isBuffer(key) || key.length === 0) {
        throw bad(`Security /0/${a.securityInstance}: PSK mode needs an identity and a key`);
      }
      if (!a.uri.startsWith('coaps://')) throw bad(`Security /0/${a.securityInstance}: PSK mode needs a coaps:// URI`);
    } else if (mode === SecurityMode.NOSEC) {
      if (!a.uri.startsWith('coap://')) throw bad(`Security /0/${a.securityInstance}: NoSec mode needs a coap:// URI`);
    } else {
      throw bad(`Security /0/${a.securityInstance}: security mode ${String(mode)} is not supported (PSK and NoSec are)`);
    }
    const lt = tree.get(new Lwm2mPath([1, a.serverInstance, 1]));
    if (lt !== undefined && (typeof lt !== 'number' || lt < 0)) throw bad(`Server /1/${a.serverInstance}: invalid lifetime`);
  }
}

export class BootstrapSession implements BootstrapContext {
  endpoint: CoapEndpoint | undefined;
  peer: Peer | undefined;
  private resolveFinish: (() => void) | undefined;
  private rejectFinish: ((err: unknown) => void) | undefined;
  private readonly timeout: Task;
  private cancelled = false;
  private gate: GatedSocket | undefined;

  constructor(
    private readonly host: BootstrapHost,
    readonly securityInstance: number,
    readonly uri: string,
    private readonly opts: BootstrapOptions,
    readonly version: ClientVersion,
  ) {
    this.timeout = new Task(() => {
      this.rejectFinish?.(new TimeoutError('Bootstrap-Finish', this.opts.finishTimeoutMs ?? 60_000));
    });
  }

  bootstrapSecurityInstance(): number | undefined { return this.securityInstance; }

  matches(endpoint: CoapEndpoint, peer: Peer): boolean {
    return this.endpoint === endpoint && this.peer !== undefined && this.peer.port === peer.port
      && (this.peer.address === peer.address || peer.address === '::ffff:' + this.peer.address);
  }

  /** Bootstrap-Finish from the server: validate, then let run() return. */
  finish(): void {
    validateBootstrapConfig(this.host);
    const done = this.resolveFinish;
    // let the 2.04 go out before the client starts registering
    setImmediate(() => done?.());
  }

  /** The session is over: it no longer keeps the socket awake. */
  leave(): void {
    this.gate?.leave(this);
  }

  cancel(): void {
    this.leave();
    this.cancelled = true;
    this.host.scheduler.cancel(this.timeout);
    this.rejectFinish?.(new CancelledError('bootstrap'));
  }

  /** Runs the bootstrap; resolves once a valid configuration is in place. */
  async run(): Promise<void> {
    const t = await this.host.connect(this);
    this.gate = t.gate;
    this.endpoint = t.endpoint;
    this.peer = t.peer;
    t.gate?.join(this);
    if (this.cancelled) throw new CancelledError('bootstrap');
    if (this.opts.pack === true && this.version === '1.2') {
      await this.runPack();
      return;
    }
    const finished = new Promise<void>((resolve, reject) => { this.resolveFinish = resolve; this.rejectFinish = reject; });
    finished.catch(() => undefined);
    const query = [`ep=${this.host.endpointName}`];
    const pct = this.opts.pct ?? CF.SENML_CBOR;
    if (this.version !== '1.0' && pct > 0) query.push(`pct=${pct}`);
    const res = await this.endpoint.request(this.peer, { method: 'POST', path: ['bs'], query, timeoutMs: this.host.options.requestTimeoutMs });
    if (res.code !== '2.04') {
      throw new CoapResponseError(res.code, `Bootstrap-Request to ${this.uri}`, res.payload.length > 0 ? res.payload.toString('utf8').slice(0, 200) : undefined);
    }
    this.host.event('bootstrap-request', { server: this.uri });
    this.host.scheduler.schedule(this.timeout, this.opts.finishTimeoutMs ?? 60_000);
    try {
      await finished;
    } finally {
      this.host.scheduler.cancel(this.timeout);
    }
  }

  /** Bootstrap-Pack-Request (1.2): one GET brings the whole configuration. */
  private async runPack(): Promise<void> {
    const format = this.opts.pct !== undefined && this.opts.pct > 0 ? this.opts.pct : CF.SENML_CBOR;
    const res = await this.endpoint!.request(this.peer!, {
      method: 'GET', path: ['bspack'], query: [`ep=${this.host.endpointName}`], accept: format,
      timeoutMs: this.host.options.requestTimeoutMs,
    });
    if (res.code !== '2.05') {
      throw new CoapResponseError(res.code, `Bootstrap-Pack-Request to ${this.uri}`, res.payload.length > 0 ? res.payload.toString('utf8').slice(0, 200) : undefined);
    }
    const records = decodeRecords(res.contentFormat ?? format, res.payload, Lwm2mPath.ROOT, this.host.registry);
    for (const r of records) if (r.path.objectId !== undefined && !this.host.tree.hasObject(r.path.objectId)) this.host.tree.defineObject(r.path.objectId);
    applyBootstrapRecords(this.host, records, Lwm2mPath.ROOT);
    validateBootstrapConfig(this.host);
    this.host.event('bootstrap-pack', { server: this.uri, records: records.length });
  }
}
