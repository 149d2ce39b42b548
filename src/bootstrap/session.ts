/**
 * One bootstrap sequence with one device (OMA TS Core 1.1 / 1.2 section 6.1.3 "Client Initiated Bootstrap", the
 * operations of 6.1.7 and the CoAP mapping of Transport 1.1 / 1.2 section 6.2.1):
 *
 *   config --(2.04 sent)--> discover --> read --> delete --> write --> finish --> finished
 *      |                       any step: error answer, no answer, session deadline, replaced --> failed
 *
 * - Bootstrap-Discover `GET /` (Accept: link-format) tells the device's version (`</>;lwm2m=1.1`) and where its
 *   Bootstrap-Server account is (the Security instance without `ssid`), so writes and deletes do not touch it. A device
 *   that does not implement it (LwM2M 1.0) answers an error: the account's place then comes from the configuration
 *   (`bootstrapAccountInstanceId`), else /0/0 and /0/1 are kept clear and the result carries a warning (plan.ts).
 * - Bootstrap-Read (1.1+) of configured paths, reported in the 'finished' event.
 * - Bootstrap-Delete `DELETE /0`, `DELETE /1`... (2.02; a 4.04 means nothing to delete).
 * - Bootstrap-Write `PUT /0/<i>`, `PUT /1/<i>`... (2.04) in TLV (1.0) or SenML CBOR (1.1+), or the device's `pct`;
 *   a 4.15 / 4.06 answer makes the write go again in the next format able to carry it.
 * - Bootstrap-Finish `POST /bs` (2.04; 4.06 means the device found the configuration inconsistent, Core 1.1 6.1.7.6).
 *
 * The session holds no timer of its own: its deadline is one entry in the server's timer wheel, and each request's
 * deadline is the CoAP endpoint's.
 */
import { CancelledError, CoapResponseError, COAP_CODE_NAMES, Lwm2mError, TimeoutError } from '../errors';
import { CoapEndpoint, OutgoingRequest, Peer, ReceivedResponse } from '../coap/types';
import { Lwm2mPath } from '../model/path';
import { ObjectRegistry } from '../model/types';
import { ContentFormat as CF } from '../content/formats';
import { Lwm2mVersion } from '../content/choose';
import { decode, encode, hasCodec } from '../content/index';
import { recordsToTree, TreeNode } from '../content/tree';
import { TimerHandle } from '../util/timer-wheel';
import { ValidatedConfig, WRITE_FORMATS } from './config';
import { BootstrapConfigError, BootstrapFailedError, BootstrapStep } from './errors';
import { BootstrapPlan, DeviceLayout, parseBootstrapDiscover, planBootstrap } from './plan';

export type SessionState = 'config' | 'running' | 'finished' | 'failed';

/** A server account as provisioned (no secrets). */
export interface ProvisionedServer {
  uri: string;
  shortServerId: number;
  securityMode: 'nosec' | 'psk';
  identity?: string;
  securityInstance: number;
  serverInstance: number;
}

export interface StepEvent {
  endpoint: string;
  step: BootstrapStep;
  /** Target of the request (`/`, `/0/1`, `/bs`). */
  path: string;
  /** The device's answer code. */
  code: string;
  /** Content format of a write. */
  format?: number;
}

/** What a session needs from the bootstrap server. */
export interface SessionHost {
  readonly registry: ObjectRegistry;
  readonly requestTimeoutMs: number | undefined;
  step(event: StepEvent): void;
  /** Hands provisioned PSKs to our LwM2M server before Bootstrap-Finish; returns how to undo it if Finish fails. */
  provision(session: BootstrapSession): () => void;
  /** The session ended (success or failure): forget it, cancel its deadline, report it. */
  ended(session: BootstrapSession, error: BootstrapFailedError | undefined): void;
}

/** Thrown inside the sequence when the session ended meanwhile: unwinds silently. */
class SessionEnded extends Error {}

/** Formats to try for writes, per version (Core 1.0.2 6.4: TLV is mandatory; Core 1.1 7.4: SenML SHOULD be supported). */
const WRITE_ORDER: Record<Lwm2mVersion, number[]> = {
  '1.0': [CF.TLV, CF.OLD_TLV, CF.LWM2M_JSON],
  '1.1': [CF.SENML_CBOR, CF.SENML_JSON, CF.TLV],
  '1.2': [CF.SENML_CBOR, CF.SENML_JSON, CF.LWM2M_CBOR, CF.TLV],
};

function describeCode(res: ReceivedResponse): string {
  const diag = res.payload.length > 0 && res.payload.length <= 200 && res.contentFormat === undefined ? res.payload.toString('utf8') : undefined;
  return `${res.code} ${COAP_CODE_NAMES[res.code] ?? ''}`.trimEnd() + (diag ? ` (${diag.replace(/[^\x20-\x7e]/g, '?')})` : '');
}

function coapPath(p: Lwm2mPath): string[] {
  return p.segments.map(String);
}

export class BootstrapSession {
  state: SessionState = 'config';
  step: BootstrapStep = 'config';
  readonly startedAt = Date.now();
  /** The device's LwM2M version, once known (Bootstrap-Discover, configuration, or `pct` implying 1.1+). */
  version: Lwm2mVersion | undefined;
  config: ValidatedConfig | undefined;
  plan: BootstrapPlan | undefined;
  layout: DeviceLayout | undefined;
  /** Bootstrap-Read results by path. */
  readonly reads: Record<string, TreeNode | undefined> = {};
  servers: ProvisionedServer[] = [];
  /** Deadline entry in the server's wheel. */
  timer: TimerHandle | undefined;
  /** Format used for the writes (after any fallback). */
  writeFormat: number | undefined;
  /** Things the result should tell (the Bootstrap-Server account's place was a guess...). */
  readonly warnings: string[] = [];
  private done = false;

  constructor(
    private readonly host: SessionHost,
    readonly endpoint: string,
    readonly transport: CoapEndpoint,
    readonly peer: Peer,
    readonly secure: boolean,
    /** `pct=` of the Bootstrap-Request (1.1+). */
    readonly preferredFormat: number | undefined,
  ) {
    if (preferredFormat !== undefined) this.version = '1.1';
  }

  get ended(): boolean {
    return this.done;
  }

  /** Runs the sequence. Never rejects: every outcome goes to the host. */
  async run(config: ValidatedConfig): Promise<void> {
    if (this.done) return;
    this.config = config;
    this.state = 'running';
    try {
      await this.sequence(config);
      if (this.done) return;
      this.state = 'finished';
      this.end(undefined);
    } catch (err) {
      if (err instanceof SessionEnded || this.done) return;
      if (err instanceof BootstrapFailedError) this.end(err);
      else {
        const e = err as Error;
        this.end(new BootstrapFailedError(this.endpoint, this.step, undefined,
          err instanceof Lwm2mError ? e.message : `unexpected error: ${e?.message ?? String(err)}`, { cause: err }));
      }
    }
  }

  /** Ends the session with an error (deadline, replaced, server closing, configuration problem). No-op once ended. */
  fail(step: BootstrapStep, path: string | undefined, reason: string, cause?: unknown): void {
    if (this.done) return;
    this.end(new BootstrapFailedError(this.endpoint, step, path, reason, { cause }));
  }

  private end(error: BootstrapFailedError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.state = error ? 'failed' : 'finished';
    this.host.ended(this, error);
  }

  private async sequence(cfg: ValidatedConfig): Promise<void> {
    const registry = this.host.registry;
    // ---- Bootstrap-Discover
    let noLayoutReason = cfg.version === '1.0' ? 'the device is configured as LwM2M 1.0, which has no Bootstrap-Discover' : 'Bootstrap-Discover is off in the configuration';
    if (cfg.discover) {
      this.step = 'discover';
      const res = await this.send('discover', Lwm2mPath.ROOT, { method: 'GET', path: [], accept: CF.LINK });
      noLayoutReason = `the device answered Bootstrap-Discover ${res.code} (LwM2M 1.0 has none)`;
      if (res.code === '2.05') {
        try {
          this.layout = parseBootstrapDiscover(res.payload);
        } catch (e) {
          throw new BootstrapFailedError(this.endpoint, 'discover', '/', `the Bootstrap-Discover answer is not valid link-format: ${(e as Error).message}`, { cause: e });
        }
      } else if (!res.code.startsWith('4.') && res.code !== '5.01') {
        throw this.coapFailure('discover', '/', res);
      }
      // 4.xx / 5.01: a device without Bootstrap-Discover (LwM2M 1.0): go on with the usual layout.
    }
    this.version = this.layout?.version ?? cfg.version ?? this.version ?? '1.0';

    // ---- Bootstrap-Read (1.1+)
    if (cfg.reads.length > 0 && this.version !== '1.0') {
      for (const p of cfg.reads) {
        this.step = 'read';
        const accept = this.readFormat();
        const res = await this.send('read', p, { method: 'GET', path: coapPath(p), accept });
        if (res.code !== '2.05') throw this.coapFailure('read', String(p), res);
        const format = res.contentFormat ?? accept;
        try {
          this.reads[String(p)] = recordsToTree(p, decode(format, res.payload, { registry, path: p }));
        } catch (e) {
          throw new BootstrapFailedError(this.endpoint, 'read', String(p), `cannot decode the answer: ${(e as Error).message}`, { cause: e });
        }
      }
    }

    // ---- plan
    let plan: BootstrapPlan;
    try {
      plan = planBootstrap(cfg, this.layout, registry, { noLayoutReason });
    } catch (e) {
      if (e instanceof BootstrapConfigError) throw new BootstrapFailedError(this.endpoint, 'config', undefined, e.message, { cause: e });
      throw e;
    }
    this.plan = plan;
    this.warnings.push(...plan.warnings);
    this.servers = plan.servers.map((p) => ({
      uri: p.server.uri, shortServerId: p.server.shortServerId, securityMode: p.server.securityMode, identity: p.server.identity,
      securityInstance: p.securityInstance, serverInstance: p.serverInstance,
    }));

    // ---- Bootstrap-Delete
    for (const d of plan.deletes) {
      this.step = 'delete';
      const res = await this.send('delete', d, { method: 'DELETE', path: coapPath(d) });
      // 2.02 Deleted; 4.04: nothing there to delete, which is the wanted state.
      if (res.code !== '2.02' && res.code !== '4.04') throw this.coapFailure('delete', String(d), res);
    }

    // ---- Bootstrap-Write
    const formats = this.writeFormats(cfg);
    for (const w of plan.writes) {
      this.step = 'write';
      for (;;) {
        const format = formats[0];
        let payload: Buffer;
        try {
          payload = encode(format, w.records, { registry, path: w.path });
        } catch (e) {
          throw new BootstrapFailedError(this.endpoint, 'write', String(w.path), `cannot encode the ${w.what} write: ${(e as Error).message}`, { cause: e });
        }
        const res = await this.send('write', w.path, { method: 'PUT', path: coapPath(w.path), contentFormat: format, payload }, format);
        // 2.04 Changed (Transport 1.1 Table 6.2.1-1); some devices answer 2.01 for a new instance.
        if (res.code === '2.04' || res.code === '2.01') break;
        if ((res.code === '4.15' || res.code === '4.06') && cfg.contentFormat === undefined && formats.length > 1) {
          formats.shift();
          continue;
        }
        throw this.coapFailure('write', String(w.path), res);
      }
      this.writeFormat = formats[0];
    }

    // ---- Bootstrap-Finish
    this.step = 'finish';
    const undo = this.host.provision(this);
    let res: ReceivedResponse;
    try {
      res = await this.send('finish', undefined, { method: 'POST', path: ['bs'] });
    } catch (e) {
      undo();
      throw e;
    }
    if (res.code !== '2.04') {
      undo();
      throw this.coapFailure('finish', '/bs', res,
        res.code === '4.06' ? 'the device found the configuration inconsistent (Bootstrap-Finish 4.06)' : undefined);
    }
  }

  /** Accept of a Bootstrap-Read: the device's `pct` when it can carry a read, else SenML CBOR. */
  private readFormat(): number {
    const pct = this.preferredFormat;
    if (pct !== undefined && WRITE_FORMATS.includes(pct) && hasCodec(pct)) return pct;
    return CF.SENML_CBOR;
  }

  private writeFormats(cfg: ValidatedConfig): number[] {
    if (cfg.contentFormat !== undefined) return [cfg.contentFormat];
    const out: number[] = [];
    const pct = this.preferredFormat;
    if (pct !== undefined && WRITE_FORMATS.includes(pct) && hasCodec(pct)) out.push(pct);
    for (const f of WRITE_ORDER[this.version ?? '1.0']) if (!out.includes(f)) out.push(f);
    return out;
  }

  private coapFailure(step: BootstrapStep, path: string, res: ReceivedResponse, reason?: string): BootstrapFailedError {
    const diag = res.payload.length > 0 && res.payload.length <= 200 && res.contentFormat === undefined ? res.payload.toString('utf8') : undefined;
    return new BootstrapFailedError(this.endpoint, step, path,
      `device answered ${describeCode(res)}${reason ? `: ${reason}` : ''}`,
      { cause: new CoapResponseError(res.code, `${step} ${path}`, diag), coapCode: res.code });
  }

  private async send(step: BootstrapStep, path: Lwm2mPath | undefined, req: OutgoingRequest, format?: number): Promise<ReceivedResponse> {
    if (this.done) throw new SessionEnded();
    const shown = path === undefined ? '/bs' : String(path);
    let res: ReceivedResponse;
    try {
      res = await this.transport.request(this.peer, { ...req, timeoutMs: this.host.requestTimeoutMs });
    } catch (e) {
      if (this.done) throw new SessionEnded();
      let reason: string;
      if (e instanceof TimeoutError) reason = `the device did not answer (${e.message})`;
      else if (e instanceof CancelledError) reason = `the request was cancelled (${e.message})`;
      else reason = `the request failed: ${(e as Error)?.message ?? String(e)}`;
      throw new BootstrapFailedError(this.endpoint, step, shown, reason, { cause: e });
    }
    if (this.done) throw new SessionEnded();
    this.host.step({ endpoint: this.endpoint, step, path: shown, code: res.code, ...(format !== undefined ? { format } : {}) });
    if (this.done) throw new SessionEnded();
    return res;
  }
}
