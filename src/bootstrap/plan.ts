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
 * Security instances that may hold the Bootstrap-Server account: the Bootstrap-Discover answer gives `ssid` for every
 * Security instance except the Bootstrap-Server's (Core 1.1 6.1.7.3), so these are the instances without one.
 */
export function bootstrapAccountCandidates(layout: DeviceLayout): number[] {
  const out: number[] = [];
  for (const [id, a] of layout.security) if (a.ssid === undefined) out.push(id);
  return out.sort((a, b) => a - b);
}

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
}

/** Lowest id >= 0 not in `used`. */
function lowestFree(used: Set<number>, what: string): number {
  for (let i = 0; i <= MAX_INSTANCE_ID; i++) if (!used.has(i)) return i;
  throw new BootstrapConfigError(what, 'no free instance id');
}

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
 * The bootstrap plan for a device. `layout` is what Bootstrap-Discover said (undefined when there was none: the
 * Bootstrap-Server account is then assumed at `/0/0`, the usual place, e.g. for 1.0 devices and Bootstrap-Pack).
 *
 * Instance ids (Core 1.1 6.1.7.5: a Bootstrap-Delete keeps the Bootstrap-Server account, so our writes must not land on
 * it): a server keeps an explicit id from the configuration; otherwise, unless the old accounts were deleted, an
 * existing instance with the same Short Server ID is overwritten; otherwise the lowest id that is neither the
 * Bootstrap-Server account's nor (when nothing was deleted) another account's.
 */
export function planBootstrap(cfg: ValidatedConfig, layout: DeviceLayout | undefined, registry: ObjectRegistry): BootstrapPlan {
  const candidates = layout ? bootstrapAccountCandidates(layout) : [0];
  const bootstrapInstance = cfg.bootstrapServer?.securityInstanceId ?? candidates[0];
  const deletes: Lwm2mPath[] = [];
  if (cfg.deleteFirst) deletes.push(new Lwm2mPath([0]), new Lwm2mPath([1]));
  for (const d of cfg.deletes) if (!deletes.some((x) => x.equals(d))) deletes.push(d);
  // Objects whose instances are all gone after the deletes (the bootstrap account excepted).
  const wiped = (o: number): boolean => deletes.some((d) => d.isRoot() || (d.isObject() && d.objectId === o));
  const wipedInstance = (o: number, i: number): boolean => wiped(o) || deletes.some((d) => d.isInstance() && d.objectId === o && d.instanceId === i);

  const usedSec = new Set<number>(candidates);
  if (bootstrapInstance !== undefined) usedSec.add(bootstrapInstance);
  const usedSrv = new Set<number>();
  const secBySsid = new Map<number, number>();
  const srvBySsid = new Map<number, number>();
  if (layout) {
    for (const [id, a] of layout.security) {
      if (wipedInstance(0, id) && a.ssid !== undefined) continue;
      usedSec.add(id);
      if (a.ssid !== undefined && !secBySsid.has(a.ssid)) secBySsid.set(a.ssid, id);
    }
    for (const [id, a] of layout.server) {
      if (wipedInstance(1, id)) continue;
      usedSrv.add(id);
      if (a.ssid !== undefined && !srvBySsid.has(a.ssid)) srvBySsid.set(a.ssid, id);
    }
  }
  // Explicit ids are taken first.
  for (const s of cfg.servers) {
    if (s.securityInstanceId !== undefined && candidates.includes(s.securityInstanceId) && layout !== undefined) {
      throw new BootstrapConfigError(`servers (shortServerId ${s.shortServerId}).securityInstanceId`,
        `/0/${s.securityInstanceId} holds the device's Bootstrap-Server account`);
    }
    if (s.securityInstanceId !== undefined && s.securityInstanceId === bootstrapInstance) {
      throw new BootstrapConfigError(`servers (shortServerId ${s.shortServerId}).securityInstanceId`,
        `/0/${s.securityInstanceId} is the Bootstrap-Server account's instance`);
    }
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
      throw new BootstrapConfigError('bootstrapServer', 'the device has no Bootstrap-Server account to rewrite; give bootstrapServer.securityInstanceId');
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
  return { deletes, writes, servers, bootstrapInstance };
}

/** Every record of a plan's writes, for a Bootstrap-Pack (Core 1.2 6.1.7.7): one SenML pack rooted at `/`. */
export function packRecords(plan: BootstrapPlan): Lwm2mRecord[] {
  const out: Lwm2mRecord[] = [];
  for (const w of plan.writes) for (const r of w.records) out.push(r);
  return out;
}
