/**
 * Observations held by the client (Information Reporting, OMA TS Core 1.1 / 1.2 6.4; RFC 7641) and when to notify.
 *
 * All observations of all clients sharing a {@link Scheduler} use one heap of {@link Task}s (one reusable task per
 * observation): nothing here starts a timer of its own. A change of a value finds the observations of that path and
 * of its ancestors through an index, checks the change-value conditions (gt / lt / st / edge) against the last notified
 * value, and queues a notification no sooner than pmin after the previous one. pmax forces a notification even without
 * change; epmax samples values (calling read hooks) so conditions are evaluated even when nobody pushes values.
 */
import { Peer, CoapResponse } from '../coap/types';
import { CancelledError, TimeoutError } from '../errors';
import { Lwm2mPath } from '../model/path';
import {
  AttributeStore, effectivePeriods, hasValueConditions, NotificationAttributes, valueConditionMet,
} from './attributes';
import { Scheduler, Task } from './scheduler';

/** The side of an observation that belongs to a server account (the client's session with one server). */
export interface ObservationOwner {
  /** Attributes written by this server. */
  readonly attributes: AttributeStore;
  /** Server object defaults (resources 2 and 3) for pmin and pmax, seconds. */
  attributeDefaults(): { pmin?: number; pmax?: number };
  /** Whether notifications go confirmable when the attributes do not say (`con`, 1.2). */
  readonly confirmableNotifications: boolean;
}

export interface ObservationHost {
  /** Reads the observed paths now (running read hooks) and encodes them as the notification to send. */
  render(obs: Observation): Promise<CoapResponse>;
  /** The value now stored at a resource or resource-instance path (no hook is called). */
  currentValue(path: Lwm2mPath): unknown;
  /** Sends a notification. Rejects with CancelledError when the server answered RST (it is no longer interested). */
  notify(obs: Observation, res: CoapResponse, confirmable: boolean): Promise<void>;
  /** An error while rendering or sending (logged by the client). */
  onError?(obs: Observation, err: unknown): void;
}

export class Observation {
  readonly key: string;
  readonly task: Task;
  /** Attributes in force per observed path (parallel to `paths`). */
  attrs: NotificationAttributes[] = [];
  pminMs = 0;
  pmaxMs: number | undefined;
  epminMs = 0;
  epmaxMs: number | undefined;
  /** Does any path carry a change-value condition? */
  conditional = false;
  lastSentAt = 0;
  lastEvalAt = 0;
  /** Last notified values of the observed resource paths that have conditions (by path index). */
  lastValues: unknown[] = [];
  pending = false;
  sending = false;
  active = true;
  /** Observe option sequence number of the last message sent (RFC 7641 4.4: 24 bits). */
  seq = 0;
  /** Notifications sent after the first answer. */
  notifications = 0;
  /** When the last confirmable notification (or the observation) started. */
  lastConAt = 0;

  constructor(
    readonly owner: ObservationOwner,
    readonly token: Buffer,
    readonly peer: Peer,
    readonly paths: Lwm2mPath[],
    readonly composite: boolean,
    /** Content format of the notifications. */
    readonly format: number,
    fire: (o: Observation) => void,
  ) {
    this.key = token.toString('hex');
    this.task = new Task(() => fire(this));
  }

  nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffffff;
    return this.seq;
  }
}

/** RFC 7641 4.5: a confirmable notification at least this often (24 h). */
export const CON_EVERY_MS = 24 * 3600 * 1000;

export class ObservationManager {
  private readonly byOwner = new Map<ObservationOwner, Map<string, Observation>>();
  /** Observed path string -> observations of it. */
  private readonly index = new Map<string, Set<Observation>>();
  private count = 0;
  /** Observed paths by length (1..4): whether a change must look below the changed path. */
  private readonly byLength = [0, 0, 0, 0, 0];
  private readonly fire = (o: Observation): void => this.onTask(o);

  constructor(readonly scheduler: Scheduler, private readonly host: ObservationHost) {}

  get size(): number { return this.count; }

  /** Observations of one server account. */
  list(owner?: ObservationOwner): Observation[] {
    if (owner !== undefined) return [...(this.byOwner.get(owner)?.values() ?? [])];
    const out: Observation[] = [];
    for (const m of this.byOwner.values()) out.push(...m.values());
    return out;
  }

  get(owner: ObservationOwner, token: Buffer): Observation | undefined {
    return this.byOwner.get(owner)?.get(token.toString('hex'));
  }

  /**
   * Starts an observation whose first answer is being sent now with sequence number `seq` (same token from the same
   * server replaces the previous one: RFC 7641 4.1 re-registration). `sentValues` seeds the condition checks.
   */
  add(owner: ObservationOwner, token: Buffer, peer: Peer, paths: Lwm2mPath[], composite: boolean, format: number): Observation {
    const old = this.get(owner, token);
    if (old !== undefined) this.remove(old);
    const obs = new Observation(owner, token, peer, paths, composite, format, this.fire);
    // A re-registration (same token) continues the old observation's sequence: its answer is a notification of that
    // observation, and an observer discards one whose number is not newer than the last it saw (RFC 7641 3.4, 4.4).
    if (old !== undefined) obs.seq = old.nextSeq();
    let m = this.byOwner.get(owner);
    if (m === undefined) { m = new Map(); this.byOwner.set(owner, m); }
    m.set(obs.key, obs);
    for (const p of paths) {
      const k = p.toString();
      let s = this.index.get(k);
      if (s === undefined) { s = new Set(); this.index.set(k, s); }
      s.add(obs);
      this.byLength[p.length]++;
    }
    this.count++;
    this.computeAttributes(obs);
    const now = this.scheduler.now();
    obs.lastSentAt = now;
    obs.lastEvalAt = now;
    obs.lastConAt = now;
    this.snapshot(obs);
    this.reschedule(obs);
    return obs;
  }

  remove(obs: Observation): void {
    if (!obs.active) return;
    obs.active = false;
    this.scheduler.cancel(obs.task);
    const m = this.byOwner.get(obs.owner);
    if (m !== undefined && m.get(obs.key) === obs) {
      m.delete(obs.key);
      if (m.size === 0) this.byOwner.delete(obs.owner);
    }
    for (const p of obs.paths) {
      const k = p.toString();
      const s = this.index.get(k);
      if (s !== undefined) { s.delete(obs); if (s.size === 0) this.index.delete(k); }
      this.byLength[p.length]--;
    }
    this.count--;
  }

  /** Cancels the observation with this token (active cancel, RFC 7641 3.6 / Core 6.4.2). */
  cancel(owner: ObservationOwner, token: Buffer): boolean {
    const o = this.get(owner, token);
    if (o === undefined) return false;
    this.remove(o);
    return true;
  }

  /**
   * The server at `peer` answered a notification of observation `token` with RST: it no longer observes (RFC 7641 3.6,
   * 4.5; a NON notification too). Ends that observation when it belongs to that peer; false when there is none.
   */
  observerGone(owner: ObservationOwner, token: Buffer, peer: Peer): boolean {
    const o = this.get(owner, token);
    if (o === undefined || o.peer.port !== peer.port || !sameAddress(o.peer.address, peer.address)) return false;
    this.remove(o);
    return true;
  }

  /** Drops every observation of a server account (new registration, deregistration, stop). */
  removeOwner(owner: ObservationOwner): void {
    const m = this.byOwner.get(owner);
    if (m === undefined) return;
    for (const o of [...m.values()]) this.remove(o);
  }

  clear(): void {
    for (const o of this.list()) this.remove(o);
  }

  /** Attributes of a server account changed (Write-Attributes): re-reads them for its observations. */
  attributesChanged(owner: ObservationOwner, path?: Lwm2mPath): void {
    for (const o of this.list(owner)) {
      if (path !== undefined && !o.paths.some((p) => p.contains(path) || path.contains(p))) continue;
      this.computeAttributes(o);
      this.reschedule(o);
    }
  }

  /**
   * A value changed at `path` (resource or resource instance), or an instance / object was created or deleted.
   * Observations of the path, of its ancestors and (for a delete or a whole-resource change) of what lies below are
   * considered.
   */
  changed(path: Lwm2mPath, kind: 'value' | 'create' | 'delete' = 'value'): void {
    if (this.count === 0) return;
    // ancestors and the path itself
    let p: Lwm2mPath = path;
    for (;;) {
      const s = this.index.get(p.toString());
      if (s !== undefined) for (const o of [...s]) this.trigger(o, path);
      if (p.isRoot()) break;
      p = p.parent();
    }
    // observations below the changed path (a deleted instance, a multiple resource written as a whole)
    let deeper = 0;
    for (let l = path.length + 1; l <= 4; l++) deeper += this.byLength[l];
    if (deeper > 0) {
      for (const o of this.list()) {
        for (let i = 0; i < o.paths.length; i++) {
          const op = o.paths[i];
          if (op.length > path.length && path.contains(op)) {
            if (kind === 'delete') this.gone(o, op);
            else this.trigger(o, op);
            break;
          }
        }
      }
    }
  }

  private gone(o: Observation, _path: Lwm2mPath): void {
    if (!o.active) return;
    if (o.composite) { this.trigger(o, _path); return; }
    // The observed node no longer exists: a last notification with the error ends the observation (RFC 7641 3.2).
    this.remove(o);
    const res: CoapResponse = { code: '4.04', observe: o.nextSeq() };
    this.host.notify(o, res, this.confirmable(o)).catch((err) => this.host.onError?.(o, err));
  }

  private trigger(o: Observation, changed: Lwm2mPath): void {
    if (!o.active) return;
    if (o.conditional) {
      // find the observed path the change belongs to; check its conditions against the last notified value
      let met = false;
      for (let i = 0; i < o.paths.length; i++) {
        const op = o.paths[i];
        if (!op.contains(changed) && !changed.contains(op)) continue;
        const a = o.attrs[i];
        if (!hasValueConditions(a) || op.length < 3) { met = true; break; }
        if (valueConditionMet(a, o.lastValues[i], this.host.currentValue(op))) { met = true; break; }
      }
      if (!met) return;
    }
    o.pending = true;
    this.reschedule(o);
  }

  private computeAttributes(o: Observation): void {
    const defaults = o.owner.attributeDefaults();
    o.attrs = o.paths.map((p) => o.owner.attributes.effective(p, defaults));
    // Composite: notify as often as the most demanding path asks (smallest pmin / pmax among the paths).
    let pmin = Infinity; let pmax = Infinity; let epmin = Infinity; let epmax = Infinity;
    o.conditional = false;
    for (let i = 0; i < o.attrs.length; i++) {
      const a = o.attrs[i];
      const e = effectivePeriods(a);
      pmin = Math.min(pmin, e.pminMs);
      if (e.pmaxMs !== undefined) pmax = Math.min(pmax, e.pmaxMs);
      epmin = Math.min(epmin, e.epminMs);
      if (e.epmaxMs !== undefined) epmax = Math.min(epmax, e.epmaxMs);
      if (hasValueConditions(a) && o.paths[i].length >= 3) o.conditional = true;
    }
    o.pminMs = Number.isFinite(pmin) ? pmin : 0;
    o.pmaxMs = Number.isFinite(pmax) && pmax >= o.pminMs ? pmax : undefined;
    o.epminMs = Number.isFinite(epmin) ? epmin : 0;
    o.epmaxMs = Number.isFinite(epmax) ? Math.max(epmax, o.epminMs) : undefined;
  }

  /** Remembers the values just notified (for the change-value conditions). */
  private snapshot(o: Observation): void {
    if (!o.conditional) return;
    o.lastValues = o.paths.map((p) => (p.length >= 3 ? this.host.currentValue(p) : undefined));
  }

  private reschedule(o: Observation): void {
    if (!o.active) return;
    if (o.sending) return; // rescheduled when the send completes
    let due = Infinity;
    if (o.pending) due = Math.max(this.scheduler.now(), o.lastSentAt + o.pminMs);
    if (o.pmaxMs !== undefined) due = Math.min(due, o.lastSentAt + o.pmaxMs);
    if (o.epmaxMs !== undefined) due = Math.min(due, Math.max(o.lastEvalAt + o.epmaxMs, o.lastEvalAt + o.epminMs));
    if (due === Infinity) this.scheduler.cancel(o.task);
    else this.scheduler.scheduleAt(o.task, due);
  }

  private onTask(o: Observation): void {
    if (!o.active || o.sending) return;
    const now = this.scheduler.now();
    const pminOk = now >= o.lastSentAt + o.pminMs;
    if (o.pending && pminOk) { void this.send(o); return; }
    if (o.pmaxMs !== undefined && now >= o.lastSentAt + o.pmaxMs) { void this.send(o); return; }
    if (o.epmaxMs !== undefined && now >= o.lastEvalAt + o.epmaxMs) { void this.sample(o); return; }
    this.reschedule(o);
  }

  /** epmax: reads the values now (hooks run and store them) and checks the conditions. */
  private async sample(o: Observation): Promise<void> {
    o.sending = true;
    let res: CoapResponse | undefined;
    try {
      res = await this.host.render(o);
    } catch (err) {
      this.host.onError?.(o, err);
    }
    o.sending = false;
    if (!o.active) return;
    o.lastEvalAt = this.scheduler.now();
    if (res !== undefined) {
      let met = false;
      if (o.conditional) {
        for (let i = 0; i < o.paths.length && !met; i++) {
          met = o.paths[i].length < 3 || !hasValueConditions(o.attrs[i])
            ? false
            : valueConditionMet(o.attrs[i], o.lastValues[i], this.host.currentValue(o.paths[i]));
        }
      }
      if (met) {
        o.pending = true;
        if (this.scheduler.now() >= o.lastSentAt + o.pminMs) { void this.send(o, res); return; }
      }
    }
    this.reschedule(o);
  }

  private confirmable(o: Observation): boolean {
    for (const a of o.attrs) if (a.con !== undefined) return a.con === 1;
    if (o.owner.confirmableNotifications) return true;
    // RFC 7641 4.5: at least one confirmable notification every 24 hours, so a server that forgot the observation
    // answers with a RST (and we stop notifying).
    return this.scheduler.now() - o.lastConAt >= CON_EVERY_MS;
  }

  private async send(o: Observation, rendered?: CoapResponse): Promise<void> {
    o.sending = true;
    o.pending = false;
    this.scheduler.cancel(o.task);
    let res: CoapResponse;
    try {
      res = rendered ?? await this.host.render(o);
    } catch (err) {
      o.sending = false;
      this.host.onError?.(o, err);
      this.reschedule(o);
      return;
    }
    if (!o.active) { o.sending = false; return; }
    const now = this.scheduler.now();
    o.lastSentAt = now;
    o.lastEvalAt = now;
    this.snapshot(o);
    const final = !res.code.startsWith('2.');
    const out: CoapResponse = { ...res, observe: o.nextSeq() };
    o.notifications++;
    const con = this.confirmable(o);
    if (con) o.lastConAt = now;
    if (final) this.remove(o); // an error notification ends the observation (RFC 7641 3.2)
    try {
      await this.host.notify(o, out, con);
    } catch (err) {
      // RST (CancelledError): the server forgot this observation; an unacknowledged confirmable notification
      // (TimeoutError) means the server is gone (RFC 7641 4.5). Both end it.
      if (err instanceof CancelledError || err instanceof TimeoutError) this.remove(o);
      else this.host.onError?.(o, err);
    }
    o.sending = false;
    this.reschedule(o);
  }
}

/** Same address, an IPv4-mapped IPv6 spelling (::ffff:a.b.c.d) matching its IPv4 one. */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const strip = (x: string) => (x.startsWith('::ffff:') ? x.slice(7) : x);
  return strip(a) === strip(b);
}
