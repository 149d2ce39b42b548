/**
 * Bootstrap configurations: what the Bootstrap-Server provisions into a device (OMA TS Core 1.1 / 1.2 section 6.1
 * "Bootstrap Interface", objects Security (0) and Server (1) of Appendix E), their validation, and where they come from
 * (a {@link BootstrapConfigStore}, per endpoint name or a default under `*`).
 *
 * A configuration is plain data, so a Node-RED node can build one from its editor table or from a flow's msg:
 *
 * ```ts
 * store.set('*', {
 *   deleteFirst: true,
 *   servers: [{ uri: 'coaps://lwm2m.example.com:5684', shortServerId: 101, lifetime: 300,
 *               securityMode: 'psk', identity: 'dev-1', key: '000102030405060708090a0b0c0d0e0f' }],
 *   writes: [{ path: '/2/0', value: { 0: 3, 1: 0, 2: { 101: 15 }, 3: 101 } }],
 * });
 * ```
 */
import { Lwm2mError } from '../errors';
import { Lwm2mPath, MAX_INSTANCE_ID } from '../model/path';
import { ObjectRegistry } from '../model/types';
import { ModelRegistry } from '../model/registry';
import { ContentFormat as CF } from '../content/formats';
import { Lwm2mVersion, normalizeVersion } from '../content/choose';
import { treeToRecords } from '../content/tree';
import { Lwm2mRecord } from '../content/values';
import { BootstrapConfigError } from './errors';

export type SecurityModeName = 'nosec' | 'psk';

/** Security (0) resource 2 values (Core 1.1 E.1): 0 Pre-Shared Key, 3 NoSec. */
export const SECURITY_MODE_NUMBER: Record<SecurityModeName, number> = { psk: 0, nosec: 3 };

/** How to reach one LwM2M Server: its Security (0) and Server (1) instances. */
export interface ServerAccountConfig {
  /** `coap://host:5683` (NoSec) or `coaps://host:5684` (PSK); `coap+tcp` / `coaps+tcp` too. At most 255 characters. */
  uri: string;
  /** Short Server ID, 1..65534, unique in the configuration (Security resource 10, Server resource 0). */
  shortServerId: number;
  /** Registration lifetime in seconds (Server resource 1; default 86400). */
  lifetime?: number;
  /** Binding (Server resource 7; default `U`). */
  binding?: string;
  /** Default: `psk` for a `coaps` URI, `nosec` for a `coap` one. */
  securityMode?: SecurityModeName;
  /** PSK identity (Security resource 3, written as its UTF-8 bytes). Required for `psk`. */
  identity?: string;
  /** Pre-shared key (Security resource 5): a Buffer or hex string. Required for `psk`. */
  key?: Buffer | Uint8Array | string;
  /** Security resource 4 (Server Public Key), empty by default. */
  serverPublicKey?: Buffer | Uint8Array | string;
  /** Server resource 6 (default true). */
  notificationStoring?: boolean;
  /** Server resource 2 (Default Minimum Period, s). */
  defaultMinPeriod?: number;
  /** Server resource 3 (Default Maximum Period, s). */
  defaultMaxPeriod?: number;
  /** Server resource 5 (Disable Timeout, s). */
  disableTimeout?: number;
  /** Security instance to write; default: the lowest free id that is not the Bootstrap-Server account's. */
  securityInstanceId?: number;
  /** Server instance to write; default: the lowest free id. */
  serverInstanceId?: number;
  /** More Security resources, `{ [resourceId or name]: value }` (e.g. SNI 14). */
  securityResources?: Record<string, unknown>;
  /** More Server resources, `{ [resourceId or name]: value }` (e.g. APN Link 10). */
  serverResources?: Record<string, unknown>;
}

/** New values for the device's Bootstrap-Server account (written over the instance that holds it). */
export interface BootstrapAccountConfig {
  uri: string;
  securityMode?: SecurityModeName;
  identity?: string;
  key?: Buffer | Uint8Array | string;
  serverPublicKey?: Buffer | Uint8Array | string;
  /** Security resource 11 (Client Hold Off Time, s). */
  clientHoldOffTime?: number;
  /** Security resource 12 (Bootstrap-Server Account Timeout, s; 0 keeps the account). */
  accountTimeout?: number;
  /** Instance to write when Bootstrap-Discover cannot tell (default: the discovered one, else bootstrapAccountInstanceId, else 0). */
  securityInstanceId?: number;
  securityResources?: Record<string, unknown>;
}

/** One extra Bootstrap-Write: `path` an object, instance or resource; `value` its tree (`{ [id]: value }`). */
export interface BootstrapWriteConfig {
  path: string;
  value: unknown;
}

export interface BootstrapConfig {
  /**
   * Delete the existing Security and Server instances first (Bootstrap-Delete `/0` and `/1`; the device keeps its
   * Bootstrap-Server account, Core 1.1 6.1.7.5). Default false.
   */
  deleteFirst?: boolean;
  /** More Bootstrap-Delete targets (the root `/`, an object or an instance), sent after the ones of `deleteFirst`. */
  deletes?: string[];
  /** The LwM2M Servers to provision. */
  servers: ServerAccountConfig[];
  /** Rewrite the Bootstrap-Server account. */
  bootstrapServer?: BootstrapAccountConfig;
  /** Other objects to write (Access Control /2, APN profiles...), after the server accounts. */
  writes?: BootstrapWriteConfig[];
  /** Bootstrap-Read these paths first (LwM2M 1.1+, Server (1) and Access Control (2) objects only, Core 1.1 6.1.7.2). */
  reads?: string[];
  /**
   * Start with a Bootstrap-Discover of `/` to learn the device's version and where its Bootstrap-Server account is
   * (default true, false when `version` is 1.0).
   */
  discover?: boolean;
  /** Content format of the writes (default: the device's `pct`, else TLV for 1.0 and SenML CBOR for 1.1+). */
  contentFormat?: number;
  /** The device's LwM2M version when Bootstrap-Discover does not tell it. */
  version?: string;
  /** When set, the Bootstrap-Request must come over DTLS with this PSK identity. */
  bootstrapIdentity?: string;
  /**
   * The Security instance (`/0/<id>`) where this device keeps its Bootstrap-Server account, for devices that cannot tell
   * (LwM2M 1.0 has no Bootstrap-Discover; a Bootstrap-Pack has none either). It is never written over nor deleted.
   * Without it (and without a Discover answer) automatic ids keep clear of /0/0 and /0/1 and the session result carries a
   * warning. A Bootstrap-Discover answer, when there is one, wins.
   */
  bootstrapAccountInstanceId?: number;
}

/** A server account after validation: numbers checked, key as a Buffer, mode resolved. */
export interface ValidatedServer {
  uri: string;
  shortServerId: number;
  securityMode: SecurityModeName;
  identity?: string;
  key?: Buffer;
  serverPublicKey?: Buffer;
  lifetime: number;
  binding: string;
  notificationStoring: boolean;
  defaultMinPeriod?: number;
  defaultMaxPeriod?: number;
  disableTimeout?: number;
  securityInstanceId?: number;
  serverInstanceId?: number;
  securityResources?: Record<string, unknown>;
  serverResources?: Record<string, unknown>;
}

export interface ValidatedBootstrapAccount {
  uri: string;
  securityMode: SecurityModeName;
  identity?: string;
  key?: Buffer;
  serverPublicKey?: Buffer;
  clientHoldOffTime?: number;
  accountTimeout?: number;
  securityInstanceId?: number;
  securityResources?: Record<string, unknown>;
}

export interface ValidatedWrite {
  path: Lwm2mPath;
  records: Lwm2mRecord[];
}

export interface ValidatedConfig {
  deleteFirst: boolean;
  deletes: Lwm2mPath[];
  servers: ValidatedServer[];
  bootstrapServer?: ValidatedBootstrapAccount;
  writes: ValidatedWrite[];
  reads: Lwm2mPath[];
  discover: boolean;
  contentFormat?: number;
  version?: Lwm2mVersion;
  bootstrapIdentity?: string;
  bootstrapAccountInstanceId?: number;
}

/** Formats able to carry a Bootstrap-Write of an instance (several resources). */
export const WRITE_FORMATS: readonly number[] = [CF.TLV, CF.OLD_TLV, CF.SENML_CBOR, CF.SENML_JSON, CF.LWM2M_JSON, CF.OLD_JSON, CF.LWM2M_CBOR];
const MAX_SERVERS = 256;
const MAX_ENTRIES = 10_000;
const MAX_KEY_BYTES = 512;
const MAX_IDENTITY_BYTES = 1024;
const URI_SCHEMES = new Set(['coap:', 'coaps:', 'coap+tcp:', 'coaps+tcp:']);

let defaultRegistry: ObjectRegistry | undefined;
function builtins(): ObjectRegistry {
  return (defaultRegistry ??= ModelRegistry.withBuiltins());
}

function fail(field: string, reason: string, cause?: unknown): never {
  throw new BootstrapConfigError(field, reason, cause !== undefined ? { cause } : undefined);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function show(v: unknown): string {
  try {
    const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
    return s.length > 60 ? s.slice(0, 60) + '…' : s;
  } catch {
    return typeof v;
  }
}

/** An integer in [min, max]; numeric strings (from an editor table) are accepted. */
function int(field: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^\s*\d{1,10}\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) fail(field, `must be an integer, got ${show(v)}`);
  if (n < min || n > max) fail(field, `must be from ${min} to ${max}, got ${n}`);
  return n;
}

function optInt(field: string, v: unknown, min: number, max: number): number | undefined {
  return v === undefined || v === null || v === '' ? undefined : int(field, v, min, max);
}

function bool(field: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fail(field, `must be true or false, got ${show(v)}`);
}

/** A Buffer from a Buffer, Uint8Array, `{ type: 'Buffer', data }` (JSON of a Buffer) or hex string (`0x` allowed). */
export function toBytes(field: string, v: unknown, maxBytes: number): Buffer {
  let b: Buffer | undefined;
  if (Buffer.isBuffer(v)) b = Buffer.from(v);
  else if (v instanceof Uint8Array) b = Buffer.from(v);
  else if (isObject(v) && v.type === 'Buffer' && Array.isArray(v.data)) {
    if (v.data.length > maxBytes) fail(field, `longer than ${maxBytes} bytes`);
    if (!v.data.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255)) fail(field, 'data must be bytes 0..255');
    b = Buffer.from(v.data as number[]);
  } else if (typeof v === 'string') {
    const hex = v.startsWith('0x') || v.startsWith('0X') ? v.slice(2) : v;
    if (hex.length > maxBytes * 2) fail(field, `longer than ${maxBytes} bytes`);
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) fail(field, 'must be a hexadecimal string (an even number of 0-9, a-f)');
    b = Buffer.from(hex, 'hex');
  } else {
    fail(field, `must be a Buffer or a hexadecimal string, got ${typeof v}`);
  }
  if (b.length > maxBytes) fail(field, `longer than ${maxBytes} bytes`);
  return b;
}

function parsePath(field: string, v: unknown): Lwm2mPath {
  if (typeof v !== 'string') fail(field, `must be an LwM2M path string, got ${show(v)}`);
  try {
    return Lwm2mPath.parse(v);
  } catch (e) {
    return fail(field, (e as Error).message, e);
  }
}

function checkUri(field: string, v: unknown): { uri: string; scheme: string } {
  if (typeof v !== 'string' || v.trim() === '') fail(field, 'is missing (a coap:// or coaps:// URI)');
  const uri = v.trim();
  // Security resource 0 is a String of 0..255 bytes (Core 1.1 E.1).
  if (Buffer.byteLength(uri, 'utf8') > 255) fail(field, 'is longer than 255 bytes');
  let u: URL;
  try {
    u = new URL(uri);
  } catch (e) {
    return fail(field, `${show(uri)} is not a URI`, e);
  }
  if (!URI_SCHEMES.has(u.protocol)) fail(field, `${show(uri)}: scheme must be coap, coaps, coap+tcp or coaps+tcp`);
  if (u.hostname === '') fail(field, `${show(uri)} has no host`);
  return { uri, scheme: u.protocol };
}

function securityMode(field: string, v: unknown, scheme: string): SecurityModeName {
  const secure = scheme === 'coaps:' || scheme === 'coaps+tcp:';
  if (v === undefined || v === null || v === '') return secure ? 'psk' : 'nosec';
  const m = typeof v === 'string' ? v.toLowerCase() : v;
  if (m !== 'nosec' && m !== 'psk') fail(field, `must be "nosec" or "psk", got ${show(v)}`);
  if (m === 'psk' && !secure) fail(field, 'psk needs a coaps:// URI');
  if (m === 'nosec' && secure) fail(field, 'nosec needs a coap:// URI (coaps:// is for psk)');
  return m;
}

function credentials(prefix: string, c: Record<string, unknown>, mode: SecurityModeName): { identity?: string; key?: Buffer } {
  if (mode !== 'psk') {
    if (c.identity !== undefined && c.identity !== '' && c.identity !== null) fail(`${prefix}.identity`, 'is only for securityMode psk');
    if (c.key !== undefined && c.key !== '' && c.key !== null) fail(`${prefix}.key`, 'is only for securityMode psk');
    return {};
  }
  if (typeof c.identity !== 'string' || c.identity === '') fail(`${prefix}.identity`, 'is missing (securityMode psk needs a PSK identity)');
  if (Buffer.byteLength(c.identity, 'utf8') > MAX_IDENTITY_BYTES) fail(`${prefix}.identity`, `is longer than ${MAX_IDENTITY_BYTES} bytes`);
  if (c.key === undefined || c.key === null || c.key === '') fail(`${prefix}.key`, 'is missing (securityMode psk needs a key)');
  const key = toBytes(`${prefix}.key`, c.key, MAX_KEY_BYTES);
  if (key.length === 0) fail(`${prefix}.key`, 'is empty');
  return { identity: c.identity, key };
}

/** Checks extra resources by converting them at a placeholder instance (types come from the registry). */
function extraResources(field: string, v: unknown, objectId: number, registry: ObjectRegistry): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(field, 'must be an object { [resourceId]: value }');
  try {
    treeToRecords(new Lwm2mPath([objectId, 0]), v, registry);
  } catch (e) {
    fail(field, e instanceof Lwm2mError ? e.message : String(e), e);
  }
  return v;
}

function validateServer(i: number, s: unknown, registry: ObjectRegistry): ValidatedServer {
  const p = `servers[${i}]`;
  if (!isObject(s)) fail(p, 'must be an object');
  const { uri, scheme } = checkUri(`${p}.uri`, s.uri);
  if (s.shortServerId === undefined || s.shortServerId === null || s.shortServerId === '') fail(`${p}.shortServerId`, 'is missing (1..65534)');
  const mode = securityMode(`${p}.securityMode`, s.securityMode, scheme);
  const cred = credentials(p, s, mode);
  const binding = s.binding === undefined || s.binding === null || s.binding === '' ? 'U' : s.binding;
  if (typeof binding !== 'string' || !/^[UTSNQ]{1,6}$/.test(binding)) fail(`${p}.binding`, `must be letters of U, T, S, N, Q (e.g. "U"), got ${show(binding)}`);
  const out: ValidatedServer = {
    uri,
    shortServerId: int(`${p}.shortServerId`, s.shortServerId, 1, 65534),
    securityMode: mode,
    ...cred,
    lifetime: optInt(`${p}.lifetime`, s.lifetime, 0, 0xffffffff) ?? 86400,
    binding,
    notificationStoring: bool(`${p}.notificationStoring`, s.notificationStoring, true),
    defaultMinPeriod: optInt(`${p}.defaultMinPeriod`, s.defaultMinPeriod, 0, 0xffffffff),
    defaultMaxPeriod: optInt(`${p}.defaultMaxPeriod`, s.defaultMaxPeriod, 0, 0xffffffff),
    disableTimeout: optInt(`${p}.disableTimeout`, s.disableTimeout, 0, 0xffffffff),
    securityInstanceId: optInt(`${p}.securityInstanceId`, s.securityInstanceId, 0, MAX_INSTANCE_ID),
    serverInstanceId: optInt(`${p}.serverInstanceId`, s.serverInstanceId, 0, MAX_INSTANCE_ID),
    securityResources: extraResources(`${p}.securityResources`, s.securityResources, 0, registry),
    serverResources: extraResources(`${p}.serverResources`, s.serverResources, 1, registry),
  };
  if (s.serverPublicKey !== undefined && s.serverPublicKey !== null && s.serverPublicKey !== '') {
    out.serverPublicKey = toBytes(`${p}.serverPublicKey`, s.serverPublicKey, 4096);
  }
  if (out.defaultMinPeriod !== undefined && out.defaultMaxPeriod !== undefined && out.defaultMaxPeriod < out.defaultMinPeriod) {
    fail(`${p}.defaultMaxPeriod`, `(${out.defaultMaxPeriod}) is below defaultMinPeriod (${out.defaultMinPeriod})`);
  }
  return out;
}

function validateBootstrapAccount(b: unknown, registry: ObjectRegistry): ValidatedBootstrapAccount {
  const p = 'bootstrapServer';
  if (!isObject(b)) fail(p, 'must be an object');
  const { uri, scheme } = checkUri(`${p}.uri`, b.uri);
  const mode = securityMode(`${p}.securityMode`, b.securityMode, scheme);
  const out: ValidatedBootstrapAccount = {
    uri,
    securityMode: mode,
    ...credentials(p, b, mode),
    clientHoldOffTime: optInt(`${p}.clientHoldOffTime`, b.clientHoldOffTime, 0, 0xffffffff),
    accountTimeout: optInt(`${p}.accountTimeout`, b.accountTimeout, 0, 0xffffffff),
    securityInstanceId: optInt(`${p}.securityInstanceId`, b.securityInstanceId, 0, MAX_INSTANCE_ID),
    securityResources: extraResources(`${p}.securityResources`, b.securityResources, 0, registry),
  };
  if (b.serverPublicKey !== undefined && b.serverPublicKey !== null && b.serverPublicKey !== '') {
    out.serverPublicKey = toBytes(`${p}.serverPublicKey`, b.serverPublicKey, 4096);
  }
  return out;
}

function list(field: string, v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, 'must be an array');
  if (v.length > MAX_ENTRIES) fail(field, `has more than ${MAX_ENTRIES} entries`);
  return v;
}

/**
 * Checks a configuration and resolves it (keys as Buffers, defaults applied, extra writes converted to records with the
 * registry's types). Throws {@link BootstrapConfigError} naming the first bad field.
 */
export function validateBootstrapConfig(config: unknown, opts: { registry?: ObjectRegistry } = {}): ValidatedConfig {
  const registry = opts.registry ?? builtins();
  if (!isObject(config)) fail('config', `must be an object, got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}`);
  const c = config;
  if (c.servers !== undefined && !Array.isArray(c.servers)) fail('servers', 'must be an array of server accounts');
  const rawServers = (c.servers ?? []) as unknown[];
  if (rawServers.length > MAX_SERVERS) fail('servers', `has more than ${MAX_SERVERS} entries`);
  const servers = rawServers.map((s, i) => validateServer(i, s, registry));
  const seen = new Map<number, number>();
  const secIds = new Map<number, number>();
  const srvIds = new Map<number, number>();
  servers.forEach((s, i) => {
    const prev = seen.get(s.shortServerId);
    if (prev !== undefined) fail(`servers[${i}].shortServerId`, `${s.shortServerId} is already used by servers[${prev}]`);
    seen.set(s.shortServerId, i);
    if (s.securityInstanceId !== undefined) {
      const o = secIds.get(s.securityInstanceId);
      if (o !== undefined) fail(`servers[${i}].securityInstanceId`, `${s.securityInstanceId} is already used by servers[${o}]`);
      secIds.set(s.securityInstanceId, i);
    }
    if (s.serverInstanceId !== undefined) {
      const o = srvIds.get(s.serverInstanceId);
      if (o !== undefined) fail(`servers[${i}].serverInstanceId`, `${s.serverInstanceId} is already used by servers[${o}]`);
      srvIds.set(s.serverInstanceId, i);
    }
  });
  const bootstrapServer = c.bootstrapServer === undefined || c.bootstrapServer === null ? undefined : validateBootstrapAccount(c.bootstrapServer, registry);
  if (bootstrapServer?.securityInstanceId !== undefined && secIds.has(bootstrapServer.securityInstanceId)) {
    fail('bootstrapServer.securityInstanceId', `${bootstrapServer.securityInstanceId} is also used by servers[${secIds.get(bootstrapServer.securityInstanceId)}]`);
  }
  const bootstrapAccountInstanceId = optInt('bootstrapAccountInstanceId', c.bootstrapAccountInstanceId, 0, MAX_INSTANCE_ID);
  if (bootstrapAccountInstanceId !== undefined) {
    if (secIds.has(bootstrapAccountInstanceId)) {
      fail('bootstrapAccountInstanceId', `${bootstrapAccountInstanceId} is also used by servers[${secIds.get(bootstrapAccountInstanceId)}].securityInstanceId`);
    }
    if (bootstrapServer?.securityInstanceId !== undefined && bootstrapServer.securityInstanceId !== bootstrapAccountInstanceId) {
      fail('bootstrapAccountInstanceId', `${bootstrapAccountInstanceId} differs from bootstrapServer.securityInstanceId (${bootstrapServer.securityInstanceId})`);
    }
  }

  const writes = list('writes', c.writes).map((w, i): ValidatedWrite => {
    const p = `writes[${i}]`;
    if (!isObject(w)) fail(p, 'must be an object { path, value }');
    const path = parsePath(`${p}.path`, w.path);
    if (path.isRoot() || path.isResourceInstance()) fail(`${p}.path`, 'Bootstrap-Write targets an object, an instance or a resource');
    if (w.value === undefined) fail(`${p}.value`, 'is missing');
    let records: Lwm2mRecord[];
    try {
      records = treeToRecords(path, w.value, registry);
    } catch (e) {
      return fail(`${p}.value`, e instanceof Lwm2mError ? e.message : String(e), e);
    }
    if (records.length === 0) fail(`${p}.value`, 'holds no value to write');
    if (path.isObject() && records.some((r) => r.path.length < 3)) fail(`${p}.value`, 'must be keyed by instance ids');
    return { path, records };
  });
  const deletes = list('deletes', c.deletes).map((d, i) => {
    const path = parsePath(`deletes[${i}]`, d);
    if (path.length > 2) fail(`deletes[${i}]`, 'Bootstrap-Delete targets the root, an object or an instance');
    return path;
  });
  const reads = list('reads', c.reads).map((r, i) => {
    const path = parsePath(`reads[${i}]`, r);
    // Core 1.1 6.1.7.2: Bootstrap-Read is limited to the Server and Access Control objects.
    if (path.objectId !== 1 && path.objectId !== 2) fail(`reads[${i}]`, 'Bootstrap-Read is allowed on the Server (/1) and Access Control (/2) objects only');
    return path;
  });
  const deleteFirst = bool('deleteFirst', c.deleteFirst, false);
  if (servers.length === 0 && writes.length === 0 && bootstrapServer === undefined) {
    fail('servers', 'is empty: give at least one server account (or writes / bootstrapServer)');
  }
  let contentFormat: number | undefined;
  if (c.contentFormat !== undefined && c.contentFormat !== null && c.contentFormat !== '') {
    contentFormat = int('contentFormat', c.contentFormat, 0, 65535);
    if (!WRITE_FORMATS.includes(contentFormat)) {
      fail('contentFormat', `${contentFormat} cannot carry a Bootstrap-Write (use one of ${WRITE_FORMATS.join(', ')})`);
    }
  }
  let version: Lwm2mVersion | undefined;
  if (c.version !== undefined && c.version !== null && c.version !== '') {
    if (typeof c.version !== 'string' || !/^1\.\d+(\.\d+)?$/.test(c.version)) fail('version', `must be an LwM2M version such as "1.1", got ${show(c.version)}`);
    version = normalizeVersion(c.version);
  }
  let bootstrapIdentity: string | undefined;
  if (c.bootstrapIdentity !== undefined && c.bootstrapIdentity !== null && c.bootstrapIdentity !== '') {
    if (typeof c.bootstrapIdentity !== 'string') fail('bootstrapIdentity', 'must be a string');
    bootstrapIdentity = c.bootstrapIdentity;
  }
  return {
    deleteFirst,
    deletes,
    servers,
    bootstrapServer,
    writes,
    reads,
    // A device configured as LwM2M 1.0 has no Bootstrap-Discover (added in 1.1): not asked unless the configuration says so.
    discover: bool('discover', c.discover, version !== '1.0'),
    contentFormat,
    version,
    bootstrapIdentity,
    bootstrapAccountInstanceId,
  };
}

/** Where the bootstrap server looks up the configuration of an endpoint. May be async (a database). */
export interface BootstrapConfigStore {
  /** The configuration for this endpoint (an implementation may fall back to a default), or undefined. */
  get(endpoint: string): BootstrapConfig | undefined | Promise<BootstrapConfig | undefined>;
}

/** The key of the configuration used for endpoints that have none of their own. */
export const DEFAULT_CONFIG_KEY = '*';

/**
 * Configurations in memory, per endpoint name, with a default under `*`. `set` validates (throws
 * {@link BootstrapConfigError}), so a bad entry is refused when it is added, not when a device shows up.
 */
export class InMemoryBootstrapConfigStore implements BootstrapConfigStore {
  private readonly configs = new Map<string, BootstrapConfig>();
  private readonly registry: ObjectRegistry | undefined;

  constructor(initial?: Record<string, BootstrapConfig> | Iterable<[string, BootstrapConfig]>, opts: { registry?: ObjectRegistry } = {}) {
    this.registry = opts.registry;
    if (initial) {
      const entries = Symbol.iterator in Object(initial)
        ? (initial as Iterable<[string, BootstrapConfig]>)
        : Object.entries(initial as Record<string, BootstrapConfig>);
      for (const [ep, cfg] of entries) this.set(ep, cfg);
    }
  }

  /** Adds or replaces the configuration of an endpoint (`*` for the default). */
  set(endpoint: string, config: BootstrapConfig): this {
    if (typeof endpoint !== 'string' || endpoint === '') throw new BootstrapConfigError('endpoint', 'must be a non-empty string (or "*" for the default)');
    validateBootstrapConfig(config, { registry: this.registry });
    this.configs.set(endpoint, config);
    return this;
  }

  /** Sets the configuration for endpoints without one of their own. */
  setDefault(config: BootstrapConfig): this {
    return this.set(DEFAULT_CONFIG_KEY, config);
  }

  get(endpoint: string): BootstrapConfig | undefined {
    return this.configs.get(endpoint) ?? this.configs.get(DEFAULT_CONFIG_KEY);
  }

  /** The endpoint's own configuration (no default). */
  getOwn(endpoint: string): BootstrapConfig | undefined {
    return this.configs.get(endpoint);
  }

  delete(endpoint: string): boolean {
    return this.configs.delete(endpoint);
  }

  clear(): void {
    this.configs.clear();
  }

  entries(): Array<[string, BootstrapConfig]> {
    return [...this.configs.entries()];
  }

  get size(): number {
    return this.configs.size;
  }
}
