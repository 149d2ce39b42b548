/**
 * From a validated configuration (and what Bootstrap-Discover told about the device) to the requests of a bootstrap
 * sequence: which instances to delete, which Security / Server instance ids to write, and the records of each write.
 * Pure functions: no I/O, so the sequence can be checked without a device.
 */
import { Lwm2mPath, MAX_INSTANCE_ID } from '../model/path';
import { ObjectRegistry } from '../model/types';
import { Lwm2mVersion, normalizeVersion } from '../content/choose';
import { parseDiscover } from '../content/link';
import { treeToRecords } from '../content/tree';
import { Lwm2mRecord } from '../content/values';
import { BootstrapConfigError } from './errors';
import { SECURITY_MODE_NUMBER, ValidatedBootstrapAccount, ValidatedConfig, ValidatedServer } from './config';

/** What a Bootstrap-Discover of `/` says about the device (Core 1.1 6.1.7.3). */
export interface DeviceLayout {
  /** From the `</>;lwm2m=1.1` link. */
  version?: Lwm2mVersion;
  /** Security instances and their `ssid` / `uri` attributes. */
  security: Map<number, { ssid?: number; uri?: string }>;
  /** Server instances and their `ssid`. */
  server: Map<number, { ssid?: number }>;
  /** Objects the device has (with or without instances). */
  objects: Set<number>;
}

/**
 * Reads a Bootstrap-Discover answer. Throws DecodeError when it is not link-format with LwM2M paths.
 */
export function parseBootstrapDiscover(payload: Buffer | string): DeviceLayout {
  const entries = parseDiscover(payload);
  const layout: DeviceLayout = { security: new Map(), server: new Map(), objects: new Set() };
  for (const e of entries) {
    const p = e.path;
    if (p.isRoot()) {
      const v = e.attributes.lwm2m;
      if (typeof v === 'string' || typeof v === 'number') layout.version = normalizeVersion(String(v));
      continue;
    }
    layout.objects.add(p.objectId!);
    if (!p.isInstance()) continue;
    const ssid = typeof e.attributes.ssid === 'number' ? e.attributes.ssid : undefined;
    if (p.objectId === 0) {
      const uri = typeof e.attributes.uri === 'string' ? e.attributes.uri : undefined;
      layout.security.set(p.instanceId!, { ssid, uri });
    } else if (p.objectId === 1) {
      layout.server.set(p.instanceId!, { ssid });
    }
  }
  return layout;
}

/**
 * Security instances that hold (or may hold) the Bootstrap-Server account. In a Bootstrap-Discover answer every Security
 * instance of an LwM2M Server carries its `ssid`, the Bootstrap-Server's carries none (Core 1.1 6.1.7.3
 * "Bootstrap-Discover"; Leshan's bootstrap server reads it the same way). An `ssid` outside 1..65534 (the Short Server
 * ID range, Core E.1 resource 10) is no server's either, so such an instance counts too: keeping one instance too many
 * clear is harmless, overwriting the account is not.
 */
export function bootstrapAccountCandidates(layout: DeviceLayout): number[] {
  const out: number[] = [];
  for (const [id, a] of layout.security) if (a.ssid === undefined || a.ssid < 1 || a.ssid > 65534) out.push(id);
  return out.sort((a, b) => a - b);
}

/**
 * Security instance ids where a device that cannot tell (no Bootstrap-Discover: LwM2M 1.0, a Bootstrap-Pack) most likely
 * keeps its Bootstrap-Server account: 0, the first instance (Leshan's and Wakaama's clients, Zephyr), or 1, next to a
 * factory server account (Anjay keeps it there). Automatic ids stay clear of both when nothing better is known.
 */
export const LIKELY_BOOTSTRAP_INSTANCES: readonly number[] = [0, 1];

/** How a plan knows where the Bootstrap-Server account is. */
export type BootstrapAccountSource = 'discover' | 'config' | 'assumed';

export interface PlannedServer {
  server: ValidatedServer;
  securityInstance: number;
  serverInstance: number;
}

export interface PlannedWrite {
  path: Lwm2mPath;
  records: Lwm2mRecord[];
  /** For reports: `security 101`, `server 101`, `bootstrap account`, `extra`. */
  what: string;
}

export interface BootstrapPlan {
  deletes: Lwm2mPath[];
  writes: PlannedWrite[];
  servers: PlannedServer[];
  /** Security instance of the Bootstrap-Server account (known or assumed). */
  bootstrapInstance: number | undefined;
  /**
   * `discover`: the device said so (Bootstrap-Discover); `config`: `bootstrapAccountInstanceId` (or
   * `bootstrapServer.securityInstanceId`) said so; `assumed`: nobody did, {@link LIKELY_BOOTSTRAP_INSTANCES} were kept clear.
   */
  bootstrapInstanceSource: BootstrapAccountSource;
  /** Security instance ids no automatic id, delete or extra write touches because the account is (or may be) there. */
  keptClear: number[];
  /** What the session result should tell: the account's place is a guess, the configuration disagrees with the device... */
  warnings: string[];
}

export interface PlanOptions {
  /** Why there is no layout (for the warning), e.g. `the device has no Bootstrap-Discover (LwM2M 1.0)`. */
  noLayoutReason?: string;
}

/** Lowest id >= 0 not in `used`. */
function lowestFree(used: Set<number>, what: string): number {
  for (let i = 0; i <= MAX_INSTANCE_ID; i++) if (!used.has(i)) return i;
  throw new BootstrapConfigError(what, 'no free instance id');
}

/** Instance ids of object `objectId` an extra write touches (`/0/3`, or `/0` with records of several instances). */
function writtenInstances(w: { path: Lwm2mPath; records: Lwm2mRecord[] }, objectId: number): number[] {
  if (w.path.objectId !== objectId) return [];
  if (w.path.instanceId !== undefined) return [w.path.instanceId];
  const out = new Set<number>();
  for (const r of w.records) if (r.path.instanceId !== undefined) out.add(r.path.instanceId);
  return [...out];
}

const list = (ids: Iterable<number>): string => [...ids].map((i) => `/0/${i}`).join(', ');

function securityRecords(
  path: Lwm2mPath,
  a: { uri: string; securityMode: 'nosec' | 'psk'; identity?: string; key?: Buffer; serverPublicKey?: Buffer; securityResources?: Record<string, unknown> },
  bootstrap: boolean,
  ssid: number | undefined,
  registry: ObjectRegistry,
): Lwm2mRecord[] {
  const r = (id: number, value: Lwm2mRecord['value']): Lwm2mRecord => ({ path: path.child(id), value });
  // Core 1.1 E.1: resources 0-5 are mandatory; 3 and 5 carry the PSK identity and key in PSK mode (Transport 1.1 5.2.8).
  const out: Lwm2mRecord[] = [
    r(0, a.uri),
    r(1, bootstrap),
    r(2, SECURITY_MODE_NUMBER[a.securityMode]),
    r(3, a.identity !== undefined ? Buffer.from(a.identity, 'utf8') : Buffer.alloc(0)),
    r(4, a.serverPublicKey ?? Buffer.alloc(0)),
    r(5, a.key ?? Buffer.alloc(0)),
  ];
  if (ssid !== undefined) out.push(r(10, ssid));
  if (bootstrap) {
    const b = a as ValidatedBootstrapAccount;
    if (b.clientHoldOffTime !== undefined) out.push(r(11, b.clientHoldOffTime));
    if (b.accountTimeout !== undefined) out.push(r(12, b.accountTimeout));
  }
  return merge(out, a.securityResources ? treeToRecords(path, a.securityResources, registry) : []);
}

function serverRecords(path: Lwm2mPath, s: ValidatedServer, registry: ObjectRegistry): Lwm2mRecord[] {
  const r = (id: number, value: Lwm2mRecord['value']): Lwm2mRecord => ({ path: path.child(id), value });
  const out: Lwm2mRecord[] = [r(0, s.shortServerId), r(1, s.lifetime)];
  if (s.defaultMinPeriod !== undefined) out.push(r(2, s.defaultMinPeriod));
  if (s.defaultMaxPeriod !== undefined) out.push(r(3, s.defaultMaxPeriod));
  if (s.disableTimeout !== undefined) out.push(r(5, s.disableTimeout));
  out.push(r(6, s.notificationStoring), r(7, s.binding));
  return merge(out, s.serverResources ? treeToRecords(path, s.serverResources, registry) : []);
}

/** Records of `extra` replace those of `base` at the same resource (and its instances); the result is sorted. */
function merge(base: Lwm2mRecord[], extra: Lwm2mRecord[]): Lwm2mRecord[] {
  if (extra.length === 0) return base;
  const resources = new Set(extra.map((e) => e.path.resourceId));
  const out = base.filter((b) => !resources.has(b.path.resourceId)).concat(extra);
  return out.sort((a, b) => Lwm2mPath.compare(a.path, b.path));
}

/**
 * The bootstrap plan for a device. `layout` is what Bootstrap-Discover said; undefined when there was none (LwM2M 1.0,
 * Bootstrap-Pack, discover off).
 *
 * The device's Bootstrap-Server account is never written over nor deleted (Core 1.1 6.1.7.5: a Bootstrap-Delete
 * of `/` or `/0` leaves it in place; a Bootstrap-Write on its instance would replace it, and a device that lost it can
 * never bootstrap again). Where it is comes from, in this order: the Bootstrap-Discover answer (the Security instance
 * without `ssid`), the configuration (`bootstrapAccountInstanceId`), else it is not known and every id of
 * {@link LIKELY_BOOTSTRAP_INSTANCES} is kept clear, with a warning in the plan.
 *
 * Instance ids: a server keeps an explicit id from the configuration; otherwise, unless the old accounts were deleted, an
 * existing instance with the same Short Server ID is overwritten; otherwise the lowest id that is neither kept clear nor
 * (when nothing was deleted) another account's, nor taken by an extra write.
 */
export function planBootstrap(cfg: ValidatedConfig, layout: DeviceLayout | undefined, registry: ObjectRegistry, opts: PlanOptions = {}): BootstrapPlan {
  const warnings: string[] = [];
  const configured = cfg.bootstrapAccountInstanceId ?? cfg.bootstrapServer?.securityInstanceId;
  const candidates = layout ? bootstrapAccountCandidates(layout) : [];
  /** Security instances the Discover answer shows as LwM2M Server accounts (with a valid ssid). */
  const serverSecurity = new Set<number>();
  if (layout) for (const id of layout.security.keys()) if (!candidates.includes(id)) serverSecurity.add(id);

  const keep = new Set<number>();
  let bootstrapInstance: number | undefined;
  let source: BootstrapAccountSource;
  let unknownReason: string | undefined;
  if (candidates.length > 0) {
    source = 'discover';
    for (const id of candidates) keep.add(id);
    bootstrapInstance = configured !== undefined && candidates.includes(configured) ? configured : candidates[0];
    if (candidates.length > 1) {
      warnings.push(`Bootstrap-Discover shows ${candidates.length} Security instances without ssid (${list(candidates)}); the Bootstrap-Server account is one of them, so no server account was put on any of them`);
    }
    if (configured !== undefined && !candidates.includes(configured)) {
      warnings.push(`the configuration puts the Bootstrap-Server account at /0/${configured}, Bootstrap-Discover shows it at ${list(candidates)}: the device's answer was used`);
    }
  } else if (configured !== undefined) {
    source = 'config';
    bootstrapInstance = configured;
    keep.add(configured);
    if (serverSecurity.has(configured)) {
      warnings.push(`the configuration puts the Bootstrap-Server account at /0/${configured}, but Bootstrap-Discover shows an LwM2M Server account (ssid ${layout!.security.get(configured)!.ssid}) there`);
    }
  } else {
    source = 'assumed';
    for (const id of LIKELY_BOOTSTRAP_INSTANCES) if (!serverSecurity.has(id)) keep.add(id);
    bootstrapInstance = keep.size > 0 ? Math.min(...keep) : undefined;
    unknownReason = layout ? 'Bootstrap-Discover shows no Security instance without ssid' : (opts.noLayoutReason ?? 'there was no Bootstrap-Discover');
  }
  const known = source !== 'assumed';
  /** Something relied on a guess of where the account is: one warning says so. */
  let guessed = false;

  // ---- deletes: the device keeps its Bootstrap-Server account on a Delete of `/` or `/0` (Core 1.1 6.1.7.5); a Delete of its
  // very instance is not sent.
  const deletes: Lwm2mPath[] = [];
  const wanted = cfg.deleteFirst ? [new Lwm2mPath([0]), new Lwm2mPath([1]), ...cfg.deletes] : cfg.deletes;
  for (const d of wanted) {
    if (deletes.some((x) => x.equals(d))) continue;
    if (d.isInstance() && d.objectId === 0 && keep.has(d.instanceId!)) {
      if (known) {
        warnings.push(`Bootstrap-Delete ${d} was left out: it is the device's Bootstrap-Server account`);
        continue;
      }
      guessed = true;
    }
    deletes.push(d);
  }
  // Objects whose instances are all gone after the deletes (the Bootstrap-Server account excepted).
  const wiped = (o: number): boolean => deletes.some((d) => d.isRoot() || (d.isObject() && d.objectId === o));
  const wipedInstance = (o: number, i: number): boolean => wiped(o) || deletes.some((d) => d.isInstance() && d.objectId === o && d.instanceId === i);

  const usedSec = new Set<number>(keep);
  const usedSrv = new Set<number>();
  const secBySsid = new Map<number, number>();
  const srvBySsid = new Map<number, number>();
  if (layout) {
    for (const [id, a] of layout.security) {
      if (keep.has(id)) continue;
      if (wipedInstance(0, id)) continue;
      usedSec.add(id);
      if (a.ssid !== undefined && !secBySsid.has(a.ssid)) secBySsid.set(a.ssid, id);
    }
    for (const [id, a] of layout.server) {
      if (wipedInstance(1, id)) continue;
      usedSrv.add(id);
      if (a.ssid !== undefined && !srvBySsid.has(a.ssid)) srvBySsid.set(a.ssid, id);
    }
  }

  // ---- extra writes: never on the account's instance (bootstrapServer rewrites it); their ids are taken.
  cfg.writes.forEach((w, i) => {
    for (const id of writtenInstances(w, 0)) {
      if (keep.has(id)) {
        if (known) {
          throw new BootstrapConfigError(`writes[${i}].path`, `${w.path} would write over the device's Bootstrap-Server account at /0/${id} (use bootstrapServer to rewrite it)`);
        }
        guessed = true;
      }
      usedSec.add(id);
    }
    for (const id of writtenInstances(w, 1)) usedSrv.add(id);
  });

  // ---- explicit ids are taken first.
  for (const s of cfg.servers) {
    const id = s.securityInstanceId;
    if (id === undefined) continue;
    const field = `servers (shortServerId ${s.shortServerId}).securityInstanceId`;
    if (source === 'discover' && keep.has(id)) throw new BootstrapConfigError(field, `/0/${id} holds the device's Bootstrap-Server account`);
    if (id === bootstrapInstance) {
      throw new BootstrapConfigError(field, source === 'assumed'
        ? `/0/${id} is where the Bootstrap-Server account is assumed to be (set bootstrapAccountInstanceId if the device keeps it elsewhere)`
        : `/0/${id} is the Bootstrap-Server account's instance`);
    }
    if (keep.has(id)) guessed = true;
  }
  const explicitSec = new Set(cfg.servers.map((s) => s.securityInstanceId).filter((x): x is number => x !== undefined));
  const explicitSrv = new Set(cfg.servers.map((s) => s.serverInstanceId).filter((x): x is number => x !== undefined));
  for (const id of explicitSec) usedSec.add(id);
  for (const id of explicitSrv) usedSrv.add(id);

  const servers: PlannedServer[] = cfg.servers.map((s) => {
    let sec = s.securityInstanceId;
    if (sec === undefined) {
      const same = secBySsid.get(s.shortServerId);
      if (same !== undefined && !explicitSec.has(same)) sec = same;
      else {
        sec = lowestFree(usedSec, `servers (shortServerId ${s.shortServerId}).securityInstanceId`);
        usedSec.add(sec);
        if (!known) guessed = true;
      }
    }
    let srv = s.serverInstanceId;
    if (srv === undefined) {
      const same = srvBySsid.get(s.shortServerId);
      if (same !== undefined && !explicitSrv.has(same)) srv = same;
      else {
        srv = lowestFree(usedSrv, `servers (shortServerId ${s.shortServerId}).serverInstanceId`);
        usedSrv.add(srv);
      }
    }
    return { server: s, securityInstance: sec, serverInstance: srv };
  });

  const writes: PlannedWrite[] = [];
  if (cfg.bootstrapServer !== undefined) {
    if (bootstrapInstance === undefined) {
      throw new BootstrapConfigError('bootstrapServer', 'the device has no Bootstrap-Server account to rewrite; give bootstrapAccountInstanceId');
    }
    if (!known) {
      warnings.push(`the Bootstrap-Server account was rewritten at /0/${bootstrapInstance}, where it is assumed to be (${unknownReason}); set bootstrapAccountInstanceId if the device keeps it elsewhere`);
    }
    const path = new Lwm2mPath([0, bootstrapInstance]);
    writes.push({ path, records: securityRecords(path, cfg.bootstrapServer, true, undefined, registry), what: 'bootstrap account' });
  }
  for (const p of servers) {
    const secPath = new Lwm2mPath([0, p.securityInstance]);
    writes.push({ path: secPath, records: securityRecords(secPath, p.server, false, p.server.shortServerId, registry), what: `security ${p.server.shortServerId}` });
    const srvPath = new Lwm2mPath([1, p.serverInstance]);
    writes.push({ path: srvPath, records: serverRecords(srvPath, p.server, registry), what: `server ${p.server.shortServerId}` });
  }
  for (const w of cfg.writes) writes.push({ path: w.path, records: w.records, what: 'extra' });
  if (guessed) {
    warnings.push(`where the device keeps its Bootstrap-Server account is not known (${unknownReason}): ${list(keep)} ${keep.size === 1 ? 'was' : 'were'} left alone as its likely place; set bootstrapAccountInstanceId (or explicit securityInstanceId) for this endpoint if it is elsewhere`);
  }
  return { deletes, writes, servers, bootstrapInstance, bootstrapInstanceSource: source, keptClear: [...keep].sort((a, b) => a - b), warnings };
}

/** Every record of a plan's writes, for a Bootstrap-Pack (Core 1.2 6.1.7.7): one SenML pack rooted at `/`. */
export function packRecords(plan: BootstrapPlan): Lwm2mRecord[] {
  const out: Lwm2mRecord[] = [];
  for (const w of plan.writes) for (const r of w.records) out.push(r);
  return out;
}
