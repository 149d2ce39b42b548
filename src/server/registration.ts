/**
 * The registration record and the parsing/validation of the Register and Update parameters
 * (OMA TS LwM2M Core 1.1 / 1.2 section 6.2.1 Register and 6.2.2 Update; Core 1.0.2 section 5.3.1 / 5.3.2).
 */

/** LwM2M enabler versions this server accepts. */
export type Lwm2mVersion = '1.0' | '1.1' | '1.2';
export const SUPPORTED_VERSIONS: readonly Lwm2mVersion[] = ['1.0', '1.1', '1.2'];

export type SecurityMode = 'nosec' | 'psk';

/**
 * One registered device. A plain, JSON-serialisable object with no methods, timers or closures: a million of them fit
 * in memory, and stores can persist them as they are.
 *
 * The object list is kept as a compact string (`objectLinks`, e.g. `"1@1.1:0 3:0 3303:0,1 5"`); read it with
 * {@link registrationObjects}.
 */
export interface Registration {
  /** Registration id: the device addresses Update/De-register to `/rd/<id>`. */
  id: string;
  /** Endpoint Client Name (`ep`). */
  endpoint: string;
  /** LwM2M version (`lwm2m`), `1.0` when absent (Core 1.1 6.2.1: "If this parameter is not present, ... 1.0"). */
  version: Lwm2mVersion;
  /** Lifetime in seconds (`lt`), 86400 when absent (Core 1.1 6.2.1). */
  lifetime: number;
  /** Binding letters as sent (`b`), e.g. `U`, `UQ` (1.0), `UT` (1.1+). `U` when absent. */
  binding: string;
  /** Queue mode: `Q` in the 1.0 binding, or the `Q` parameter in 1.1+. */
  queueMode: boolean;
  /** MSISDN (`sms`). */
  sms?: string;
  /** Where the device is reached: the source of its last Register/Update datagram. */
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** Name of the CoAP endpoint (socket) the device talks to: requests go out through the same socket. */
  transport: string;
  /** True when the device came in over DTLS. */
  secure: boolean;
  security: SecurityMode;
  /** PSK identity of the DTLS session. */
  identity?: string;
  /** Alternate root path (`</lwm2m>;rt="oma.lwm2m"`) or `/`. */
  rootPath: string;
  /** Content formats announced with `ct=` on the root link (Core 1.1 6.2.1). */
  ct?: number[];
  /** Compact object list; see {@link registrationObjects}. */
  objectLinks: string;
  /** Query parameters the server does not know (kept, like Leshan's "additional registration attributes"). */
  attributes?: Record<string, string>;
  /** Epoch milliseconds. */
  registeredAt: number;
  lastUpdateAt: number;
  /** When the lifetime runs out (lastUpdateAt + lifetime); the server removes it after a short grace. */
  expiresAt: number;
}

/** An object the device supports: its version (when announced with `ver=`) and its instances. */
export interface RegisteredObject {
  version?: string;
  instances: number[];
}

/** What a registration link payload says (the shape of content/link.ts `parseRegistrationLinks`). */
export interface ParsedRegistrationLinks {
  rootPath: string;
  ct?: number[];
  objects: Array<{ objectId: number; version?: string; instances: number[] }>;
}

/**
 * Devices of one model announce the same object list and formats: equal values are shared (a bounded table, so a
 * stream of distinct lists cannot grow it without end).
 */
const MAX_INTERNED = 10_000;
const internedStrings = new Map<string, string>();
const internedCt = new Map<string, readonly number[]>();

export function internObjectLinks(s: string): string {
  const hit = internedStrings.get(s);
  if (hit !== undefined) return hit;
  if (internedStrings.size < MAX_INTERNED) internedStrings.set(s, s);
  return s;
}

/** A shared, frozen copy of a `ct` list. */
export function internCt(ct: readonly number[]): number[] {
  const key = ct.join(' ');
  const hit = internedCt.get(key);
  if (hit !== undefined) return hit as number[];
  const frozen = Object.freeze([...ct]);
  if (internedCt.size < MAX_INTERNED) internedCt.set(key, frozen);
  return frozen as number[];
}

/** Encodes an object list compactly: objects separated by a space, `id[@version][:i,i,...]`. */
export function compactObjects(objects: ParsedRegistrationLinks['objects']): string {
  const direct = compactSorted(objects);
  if (direct !== undefined) return internObjectLinks(direct);
  const merged = new Map<number, { version?: string; instances: Set<number> }>();
  for (const o of objects) {
    let m = merged.get(o.objectId);
    if (!m) merged.set(o.objectId, (m = { version: o.version, instances: new Set() }));
    if (o.version !== undefined) m.version = o.version;
    for (const i of o.instances) m.instances.add(i);
  }
  const parts: string[] = [];
  for (const id of [...merged.keys()].sort((a, b) => a - b)) {
    const m = merged.get(id)!;
    let s = String(id);
    if (m.version !== undefined) s += '@' + m.version;
    if (m.instances.size > 0) s += ':' + [...m.instances].sort((a, b) => a - b).join(',');
    parts.push(s);
  }
  return internObjectLinks(parts.join(' '));
}

/**
 * {@link compactObjects} for the usual payload, whose object ids and instance ids already come in ascending order
 * without repeats: written in one pass. Undefined when the list needs merging or sorting.
 */
function compactSorted(objects: ParsedRegistrationLinks['objects']): string | undefined {
  let out = '';
  let prev = -1;
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i];
    if (!(o.objectId > prev)) return undefined;
    prev = o.objectId;
    if (i > 0) out += ' ';
    out += o.objectId;
    if (o.version !== undefined) out += '@' + o.version;
    const inst = o.instances;
    for (let k = 0; k < inst.length; k++) {
      if (k > 0 && !(inst[k] > inst[k - 1])) return undefined;
      out += (k === 0 ? ':' : ',') + inst[k];
    }
  }
  return out;
}

/** The objects and instances of a registration: `{ 3: { instances: [0] }, 1: { version: '1.1', instances: [0] } }`. */
export function registrationObjects(reg: Pick<Registration, 'objectLinks'>): Record<number, RegisteredObject> {
  const out: Record<number, RegisteredObject> = {};
  if (!reg.objectLinks) return out;
  for (const part of reg.objectLinks.split(' ')) {
    const colon = part.indexOf(':');
    const head = colon < 0 ? part : part.slice(0, colon);
    const at = head.indexOf('@');
    const id = Number(at < 0 ? head : head.slice(0, at));
    const obj: RegisteredObject = { instances: colon < 0 ? [] : part.slice(colon + 1).split(',').map(Number) };
    if (at >= 0) obj.version = head.slice(at + 1);
    out[id] = obj;
  }
  return out;
}

/**
 * A copy of a registration for an event: later changes to the stored registration (a second Update right after the
 * first) do not show through it, and a listener that changes it does not change the store. Keys whose value is
 * undefined are left out (an absent field is absent, not `sms: undefined`); `attributes` is copied too (`ct` is a
 * shared frozen array).
 */
export function snapshotRegistration(reg: Registration): Registration {
  const out = {} as Record<string, unknown>;
  for (const k in reg) {
    const v = (reg as unknown as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  if (reg.attributes !== undefined) out.attributes = { ...reg.attributes };
  return out as unknown as Registration;
}

/** A registration with its object list expanded: what a UI or a Node-RED message shows. */
export function describeRegistration(reg: Registration): Registration & { objects: Record<number, RegisteredObject> } {
  return { ...reg, objects: registrationObjects(reg) };
}

/** A CoAP answer the registration interface gives to a bad Register/Update: code + diagnostic text. */
export class RegistrationRejection {
  constructor(readonly code: string, readonly reason: string) {}
}

export interface RegisterParams {
  endpoint: string;
  version: Lwm2mVersion;
  lifetime: number;
  binding: string;
  queueMode: boolean;
  sms?: string;
  attributes?: Record<string, string>;
}

export interface UpdateParams {
  lifetime?: number;
  binding?: string;
  sms?: string;
  attributes?: Record<string, string>;
}

export interface LifetimeBounds {
  minLifetime: number;
  maxLifetime: number;
  defaultLifetime: number;
}

const MAX_ENDPOINT_LENGTH = 255;
const MAX_SMS_LENGTH = 64;
const MAX_PARAMS = 32;
const MAX_ATTRIBUTE_LENGTH = 255;

function splitQuery(query: readonly string[]): Map<string, string | true> | RegistrationRejection {
  if (query.length > MAX_PARAMS) return new RegistrationRejection('4.00', `too many query parameters (${query.length})`);
  const params = new Map<string, string | true>();
  for (const q of query) {
    const eq = q.indexOf('=');
    const name = eq < 0 ? q : q.slice(0, eq);
    if (name === '') return new RegistrationRejection('4.00', `malformed query parameter "${q.slice(0, 40)}"`);
    if (params.has(name)) return new RegistrationRejection('4.00', `parameter "${name.slice(0, 40)}" given twice`);
    params.set(name, eq < 0 ? true : q.slice(eq + 1));
  }
  return params;
}

function parseLifetime(raw: string | true, bounds: LifetimeBounds): number | RegistrationRejection {
  // Core 1.1 6.2.1: lt is the Lifetime in seconds; a positive integer.
  if (raw === true || !/^\d{1,10}$/.test(raw)) return new RegistrationRejection('4.00', `lt must be a positive integer, got "${String(raw).slice(0, 20)}"`);
  const lt = Number(raw);
  if (lt <= 0) return new RegistrationRejection('4.00', 'lt must be a positive integer, got 0');
  if (lt < bounds.minLifetime) return new RegistrationRejection('4.00', `lt=${lt} is below this server's minimum lifetime of ${bounds.minLifetime} s`);
  if (lt > bounds.maxLifetime) return new RegistrationRejection('4.00', `lt=${lt} is above this server's maximum lifetime of ${bounds.maxLifetime} s`);
  return lt;
}

/**
 * Binding letters per version.
 * - 1.0 (Core 1.0.2 5.3.1.1 "Current Transport Binding and Mode"): exactly one of U, UQ, S, SQ, US, UQS.
 * - 1.1 (Core 1.1 6.2.1, Server object resource 7): any of U (UDP), T (TCP), S (SMS), N (Non-IP), each once; queue mode
 *   moved to the separate `Q` parameter, so `Q` is not a binding letter any more.
 * - 1.2 adds M (MQTT) and H (HTTP).
 */
export function validateBinding(binding: string, version: Lwm2mVersion): string | undefined {
  if (version === '1.0') {
    return ['U', 'UQ', 'S', 'SQ', 'US', 'UQS'].includes(binding)
      ? undefined
      : `binding "${binding.slice(0, 10)}" is not one of U, UQ, S, SQ, US, UQS (LwM2M 1.0)`;
  }
  const letters = version === '1.1' ? 'UTSN' : 'UTSNMH';
  if (binding.length === 0) return 'binding is empty';
  const seen = new Set<string>();
  for (const c of binding) {
    if (c === 'Q') return `binding "${binding.slice(0, 10)}": Q is not a binding letter in LwM2M ${version} (queue mode is the Q parameter)`;
    if (!letters.includes(c)) return `binding "${binding.slice(0, 10)}": unknown binding letter "${c}" (LwM2M ${version} allows ${letters.split('').join(', ')})`;
    if (seen.has(c)) return `binding "${binding.slice(0, 10)}": letter "${c}" given twice`;
    seen.add(c);
  }
  return undefined;
}

/** Queue mode from the binding (1.0) or the Q parameter (1.1+). */
function queueModeOf(version: Lwm2mVersion, binding: string, qParam: boolean): boolean {
  return version === '1.0' ? binding.includes('Q') : qParam;
}

function takeAttributes(params: Map<string, string | true>, known: readonly string[]): Record<string, string> | undefined | RegistrationRejection {
  let attrs: Record<string, string> | undefined;
  for (const [k, v] of params) {
    if (known.includes(k)) continue;
    if (k.length + (v === true ? 0 : v.length) > MAX_ATTRIBUTE_LENGTH) return new RegistrationRejection('4.00', `parameter "${k.slice(0, 40)}" is too long`);
    (attrs ??= {})[k] = v === true ? '' : v;
  }
  return attrs;
}

/**
 * The enabler version a Register's `lwm2m` value names, or undefined when this server does not implement it.
 *
 * Core 1.1 6.2.1 (Register, parameter "LwM2M Version", `lwm2m`) gives the version as major.minor ("1.1"; Core 1.1.1
 * limits each to one digit). Some clients send the release they implement instead, with its patch level: `1.0.2`,
 * `1.1.1` (several npm clients do). A patch release (1.0.1, 1.0.2, 1.1.1, 1.2.1...) corrects the specification text of
 * the same enabler version and does not change the protocol, so `1.0.2` is LwM2M 1.0 and `1.1.1` is LwM2M 1.1. Anything
 * else (`1.x.y.z`, `2.0`, `1`, `1.01`) is not a version this server implements.
 */
export function enablerVersion(raw: string): Lwm2mVersion | undefined {
  const m = /^(\d\.\d)(?:\.\d{1,3})?$/.exec(raw);
  if (m === null) return undefined;
  return (SUPPORTED_VERSIONS as readonly string[]).includes(m[1]) ? m[1] as Lwm2mVersion : undefined;
}

/** Parses and validates the query of a Register (`POST /rd?ep=..&lt=..&lwm2m=..&b=..&sms=..&Q`). */
export function parseRegisterQuery(query: readonly string[], bounds: LifetimeBounds): RegisterParams | RegistrationRejection {
  const params = splitQuery(query);
  if (params instanceof RegistrationRejection) return params;

  const ep = params.get('ep');
  if (ep === undefined) return new RegistrationRejection('4.00', 'missing endpoint name (ep)');
  if (ep === true || ep.length === 0) return new RegistrationRejection('4.00', 'empty endpoint name (ep)');
  if (ep.length > MAX_ENDPOINT_LENGTH) return new RegistrationRejection('4.00', `endpoint name longer than ${MAX_ENDPOINT_LENGTH} characters`);

  // Core 1.1 6.2.1: "lwm2m" absent means 1.0. A version the server does not implement is refused with 4.12 Precondition
  // Failed (what Wakaama's server answers; Core 1.1 Transport 6.x lists 4.12 for Register).
  const rawVersion = params.get('lwm2m');
  let version: Lwm2mVersion = '1.0';
  if (rawVersion !== undefined) {
    const v = rawVersion === true ? undefined : enablerVersion(rawVersion);
    if (v === undefined) {
      return new RegistrationRejection('4.12', `unsupported LwM2M version "${String(rawVersion).slice(0, 10)}" (this server supports ${SUPPORTED_VERSIONS.join(', ')})`);
    }
    version = v;
  }

  let lifetime = bounds.defaultLifetime;
  const rawLt = params.get('lt');
  if (rawLt !== undefined) {
    const lt = parseLifetime(rawLt, bounds);
    if (lt instanceof RegistrationRejection) return lt;
    lifetime = lt;
  }

  const rawB = params.get('b');
  let binding = 'U';
  if (rawB !== undefined) {
    if (rawB === true) return new RegistrationRejection('4.00', 'binding (b) without a value');
    const bad = validateBinding(rawB, version);
    if (bad) return new RegistrationRejection('4.00', bad);
    binding = rawB;
  }

  const q = params.get('Q');
  if (q !== undefined) {
    if (version === '1.0') return new RegistrationRejection('4.00', 'the Q parameter does not exist in LwM2M 1.0 (use binding UQ)');
    if (q !== true) return new RegistrationRejection('4.00', 'the Q parameter takes no value');
  }

  const sms = params.get('sms');
  if (sms === true) return new RegistrationRejection('4.00', 'sms without a value');
  if (sms !== undefined && sms.length > MAX_SMS_LENGTH) return new RegistrationRejection('4.00', 'sms number too long');

  const attributes = takeAttributes(params, ['ep', 'lwm2m', 'lt', 'b', 'Q', 'sms']);
  if (attributes instanceof RegistrationRejection) return attributes;

  const out: RegisterParams = { endpoint: ep, version, lifetime, binding, queueMode: queueModeOf(version, binding, q !== undefined) };
  if (sms !== undefined) out.sms = sms;
  if (attributes) out.attributes = attributes;
  return out;
}

/** Parses and validates the query of an Update (`POST /rd/<id>?lt=..&b=..&sms=..`), Core 1.1 6.2.2. */
export function parseUpdateQuery(query: readonly string[], version: Lwm2mVersion, bounds: LifetimeBounds): UpdateParams | RegistrationRejection {
  const params = splitQuery(query);
  if (params instanceof RegistrationRejection) return params;
  const out: UpdateParams = {};
  const rawLt = params.get('lt');
  if (rawLt !== undefined) {
    const lt = parseLifetime(rawLt, bounds);
    if (lt instanceof RegistrationRejection) return lt;
    out.lifetime = lt;
  }
  const rawB = params.get('b');
  if (rawB !== undefined) {
    if (rawB === true) return new RegistrationRejection('4.00', 'binding (b) without a value');
    const bad = validateBinding(rawB, version);
    if (bad) return new RegistrationRejection('4.00', bad);
    out.binding = rawB;
  }
  const sms = params.get('sms');
  if (sms === true) return new RegistrationRejection('4.00', 'sms without a value');
  if (sms !== undefined) {
    if (sms.length > MAX_SMS_LENGTH) return new RegistrationRejection('4.00', 'sms number too long');
    out.sms = sms;
  }
  // ep, lwm2m and Q belong to Register only; devices sometimes repeat them, they are ignored here.
  const attributes = takeAttributes(params, ['ep', 'lwm2m', 'lt', 'b', 'Q', 'sms']);
  if (attributes instanceof RegistrationRejection) return attributes;
  if (attributes) out.attributes = attributes;
  return out;
}

/** Queue mode after an Update changed the binding (only 1.0 carries it in the binding). */
export function queueModeAfterUpdate(reg: Registration, binding: string | undefined): boolean {
  if (binding === undefined || reg.version !== '1.0') return reg.queueMode;
  return binding.includes('Q');
}
