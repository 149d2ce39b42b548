/**
 * The device-management operations a flow can ask for, as one table: how each takes its arguments from the node's
 * settings and the message, and how its answer becomes msg.payload. The read, write, execute and request nodes all
 * run through here, so their conventions stay identical.
 */
import { Lwm2mPath } from '../../src/model/path';
import type { ModelRegistry } from '../../src/model/registry';
import type { Lwm2mServer } from '../../src/server/server';
import { InMemorySecurityStore } from '../../src/server/security-store';
import { hasCodec } from '../../src/content/index';
import { NodeMessage } from './red';
import { registrationObjects } from '../../src/server/registration';
import type { Registration } from '../../src/server/registration';
import { displayAddress, FlowInputError, pathOf, pathsOf } from './util';

export type OperationName =
  | 'read' | 'write' | 'execute' | 'create' | 'delete' | 'discover'
  | 'write-attributes' | 'read-composite' | 'write-composite'
  | 'set-psk' | 'remove-psk' | 'set-format' | 'list';

export const OPERATIONS: OperationName[] = [
  'read', 'write', 'execute', 'create', 'delete', 'discover', 'write-attributes', 'read-composite', 'write-composite',
  'set-psk', 'remove-psk', 'set-format', 'list',
];

/** Short names a flow or the server node's settings may use for content formats. */
const FORMAT_ALIASES: Record<string, number> = {
  text: 0, opaque: 42, cbor: 60, 'senml-json': 110, 'senml-cbor': 112, tlv: 11542, 'lwm2m-json': 11543, json: 11543,
  'lwm2m-cbor': 11544,
};

/** A content format from a number, numeric text or a short name (`tlv`, `lwm2m-json`, `senml-cbor`...); else undefined. */
export function parseFormatName(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim().toLowerCase();
  if (/^\d{1,5}$/.test(t)) return Number(t);
  return FORMAT_ALIASES[t];
}

/**
 * The server node's "preferred formats" setting: one `endpoint=format` per line (format as a number or a short name,
 * `#` starts a comment). Lines that do not parse are reported in `errors` and skipped.
 */
export function parsePreferredFormats(text: unknown): { formats: Record<string, number>; errors: string[] } {
  const formats: Record<string, number> = {};
  const errors: string[] = [];
  if (typeof text !== 'string') return { formats, errors };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const eq = line.lastIndexOf('=');
    const endpoint = eq > 0 ? line.slice(0, eq).trim() : '';
    const format = eq > 0 ? parseFormatName(line.slice(eq + 1)) : undefined;
    if (endpoint === '' || format === undefined) errors.push(`line ${i + 1} "${line}": expected endpoint=format (e.g. dev-7=11543 or dev-7=lwm2m-json)`);
    else if (!hasCodec(format) || format === 40) errors.push(`line ${i + 1} "${line}": ${format} is not a content format the server encodes and decodes`);
    else formats[endpoint] = format;
  });
  return { formats, errors };
}

/** msg.lwm2m.undecoded: the records of an answer that did not decode, as `{path, reason}` text. */
function undecodedDetails(undecoded: ReadonlyArray<{ path: Lwm2mPath; reason: string }> | undefined): Record<string, unknown> {
  return undecoded && undecoded.length > 0 ? { undecoded: undecoded.map((u) => ({ path: u.path.toString(), reason: u.reason })) } : {};
}

/**
 * Operations on the server's registrations rather than on one device: the endpoint is an optional filter (a glob),
 * not a device to talk to.
 */
export const FLEET_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>(['list']);

export interface OperationSettings {
  path?: string;
  /** write: 'replace' (PUT) or 'update' (partial update, POST). */
  mode?: string;
  /** execute: arguments (Core 5.4.5 syntax `0='on',1`). */
  args?: string;
  /** read: content format number to ask for ('' = negotiated). */
  format?: string | number;
  /** read: 'id' keys (default) or resource 'name' keys in object/instance payloads. */
  keys?: string;
  /** list: one message per device instead of one message with them all. */
  split?: boolean;
}

export interface OperationResult {
  payload: unknown;
  /** list with split: one payload per message, each for the device named in `endpoints` at the same index. */
  payloads?: unknown[];
  endpoints?: string[];
  /** The path(s) the operation acted on, for msg.topic. */
  topic: string;
  details: Record<string, unknown>;
}

function formatOf(s: OperationSettings, msg: NodeMessage): number | undefined {
  const raw = s.format !== undefined && s.format !== '' ? s.format : (msg.lwm2m as { format?: unknown } | undefined)?.format;
  if (raw === undefined || raw === '' || raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new FlowInputError(`content format "${String(raw)}" is not a number (e.g. 11542 for TLV)`);
  return n;
}

/** Replaces resource-id keys by resource names where the model knows them (for users who prefer names). */
export function withNames(registry: ModelRegistry, path: Lwm2mPath, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || value instanceof Date) return value;
  const objectId = path.objectId;
  if (objectId === undefined) return value;
  const named = (inst: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(inst)) {
      const def = registry.getResource(objectId, Number(k));
      out[def ? def.name : k] = v;
    }
    return out;
  };
  if (path.isInstance()) return named(value as Record<string, unknown>);
  if (path.isObject()) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = named(v as Record<string, unknown>);
    return out;
  }
  return value;
}

/** One registered device as the list operation shows it. */
export interface DeviceSummary {
  endpoint: string;
  version: string;
  binding: string;
  /** The object instances (`/3/0`), or objects without instances (`/5`), the device registered with. */
  objects: string[];
  /** The device's last Register or Update. */
  lastSeen: Date;
  queueMode: boolean;
  /** IPv4 peers as IPv4 (not `::ffff:` mapped). */
  address: string;
  port: number;
}

/** A glob over endpoint names: `*` any run of characters, `?` one character; everything else literal. */
export function endpointGlob(glob: string): (endpoint: string) => boolean {
  if (!/[*?]/.test(glob)) return (ep) => ep === glob;
  const re = new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return (ep) => re.test(ep);
}

export function deviceSummary(reg: Registration): DeviceSummary {
  const objects: string[] = [];
  for (const [id, o] of Object.entries(registrationObjects(reg))) {
    if (o.instances.length === 0) objects.push(`/${id}`);
    else for (const i of o.instances) objects.push(`/${id}/${i}`);
  }
  return {
    endpoint: reg.endpoint,
    version: reg.version,
    binding: reg.binding,
    objects,
    lastSeen: new Date(reg.lastUpdateAt),
    queueMode: reg.queueMode,
    address: displayAddress(reg.address),
    port: reg.port,
  };
}

/**
 * The registered devices, filtered by an endpoint glob and by an object (or object instance) they must have, sorted
 * by endpoint so that a flow sees a stable order.
 */
function listDevices(server: Lwm2mServer, endpointFilter: string, want: string | undefined): DeviceSummary[] {
  const byEndpoint = endpointFilter ? endpointGlob(endpointFilter) : () => true;
  const out: DeviceSummary[] = [];
  for (const reg of server.registrations()) {
    if (!byEndpoint(reg.endpoint)) continue;
    const d = deviceSummary(reg);
    if (want && !d.objects.some((o) => o === want || o.startsWith(`${want}/`))) continue;
    out.push(d);
  }
  return out.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
}

function pskStoreOf(server: Lwm2mServer): InMemorySecurityStore {
  const store = server.securityStore;
  if (!(store instanceof InMemorySecurityStore)) throw new FlowInputError('this server keeps no PSK store that a flow can change');
  return store;
}

export async function runOperation(
  op: OperationName,
  server: Lwm2mServer,
  registry: ModelRegistry,
  endpoint: string,
  s: OperationSettings,
  msg: NodeMessage,
): Promise<OperationResult> {
  switch (op) {
    case 'read': {
      const path = pathOf(s.path, msg)!;
      const format = formatOf(s, msg);
      const r = await server.read(endpoint, path.toString(), format !== undefined ? { format } : undefined);
      const payload = s.keys === 'name' ? withNames(registry, path, r.value) : r.value;
      return { payload, topic: path.toString(), details: { format: r.format, code: r.code, ...undecodedDetails(r.undecoded) } };
    }
    case 'write': {
      const path = pathOf(s.path, msg)!;
      if (msg.payload === undefined || msg.payload === null) throw new FlowInputError(`nothing to write to ${path}: msg.payload is empty`);
      const mode = (typeof msg.mode === 'string' && msg.mode) || s.mode || 'replace';
      if (mode !== 'replace' && mode !== 'update') throw new FlowInputError(`write mode "${mode}" must be "replace" or "update"`);
      const format = formatOf(s, msg);
      const r = await server.write(endpoint, path.toString(), msg.payload, { replace: mode === 'replace', format });
      return { payload: msg.payload, topic: path.toString(), details: { mode, format: r.format, code: r.code } };
    }
    case 'execute': {
      const path = pathOf(s.path, msg)!;
      if (!path.isResource()) throw new FlowInputError(`execute needs a resource path /O/I/R, not ${path}`);
      const args = s.args && s.args.trim() ? s.args.trim()
        // Only text is taken as arguments: an inject node's default timestamp must not become "1764190000000".
        : typeof msg.payload === 'string' && msg.payload.trim() ? msg.payload.trim() : undefined;
      const r = await server.execute(endpoint, path.toString(), args);
      return { payload: msg.payload, topic: path.toString(), details: { args, code: r.code } };
    }
    case 'create': {
      const path = pathOf(s.path, msg)!;
      if (!path.isObject() && !path.isInstance()) throw new FlowInputError(`create needs an object path /O (or /O/I to choose the id), not ${path}`);
      const values = msg.payload ?? {};
      if (typeof values !== 'object' || Buffer.isBuffer(values)) throw new FlowInputError('create needs msg.payload as an object of resource values, e.g. {"5700": 21}');
      const r = await server.create(endpoint, `/${path.objectId}`, values, path.instanceId);
      const created = `/${path.objectId}/${r.instanceId}`;
      return { payload: { instanceId: r.instanceId, path: created }, topic: created, details: { code: r.code } };
    }
    case 'delete': {
      const path = pathOf(s.path, msg)!;
      const r = await server.delete(endpoint, path.toString());
      return { payload: true, topic: path.toString(), details: { code: r.code } };
    }
    case 'discover': {
      // Discover targets an object, an instance or a resource (Core 1.1 6.3.1), never the root: a path is needed.
      const path = pathOf(s.path, msg)!;
      const r = await server.discover(endpoint, path.toString());
      const payload = r.entries.map((e) => ({ path: e.path.toString(), attributes: { ...e.attributes } }));
      return { payload, topic: path.toString(), details: { code: r.code } };
    }
    case 'write-attributes': {
      const path = pathOf(s.path, msg)!;
      const attrs = msg.payload;
      if (!attrs || typeof attrs !== 'object' || Array.isArray(attrs)) {
        throw new FlowInputError('write-attributes needs msg.payload as an object, e.g. {"pmin": 10, "pmax": 60, "st": 0.5}');
      }
      const r = await server.writeAttributes(endpoint, path.toString(), attrs as Record<string, number | null>);
      return { payload: attrs, topic: path.toString(), details: { code: r.code } };
    }
    case 'read-composite': {
      const paths = pathsOf(s.path, msg);
      const r = await server.readComposite(endpoint, paths.map(String));
      return { payload: r.value, topic: paths.join(','), details: { format: r.format, code: r.code, ...undecodedDetails(r.undecoded) } };
    }
    case 'write-composite': {
      const values = msg.payload;
      if (!values || typeof values !== 'object' || Array.isArray(values) || Buffer.isBuffer(values)) {
        throw new FlowInputError('write-composite needs msg.payload as an object of path: value, e.g. {"/3311/0/5850": true, "/3311/1/5850": false}');
      }
      for (const p of Object.keys(values)) pathOf(p, {}); // validate every path first
      const r = await server.writeComposite(endpoint, values as Record<string, unknown>);
      return { payload: values, topic: Object.keys(values).join(','), details: { format: r.format, code: r.code } };
    }
    case 'set-psk': {
      // A device's DTLS PSK from the flow at run time (e.g. looked up in a database); never echoed back in the message.
      const store = pskStoreOf(server);
      const p = msg.payload as { identity?: unknown; key?: unknown } | undefined;
      const identity = typeof p?.identity === 'string' && p.identity.trim() ? p.identity.trim() : endpoint;
      const key = Buffer.isBuffer(p?.key) ? p!.key as Buffer
        : typeof p?.key === 'string' && /^([0-9a-fA-F]{2})+$/.test(p.key.trim()) ? Buffer.from(p.key.trim(), 'hex') : undefined;
      if (!key) throw new FlowInputError('set-psk needs msg.payload.key as hex text or a Buffer (and optionally msg.payload.identity; default: the endpoint name)');
      try {
        store.add({ endpoint, identity, key });
      } catch (err) {
        throw new FlowInputError((err as Error).message);
      }
      return { payload: { endpoint, identity }, topic: endpoint, details: {} };
    }
    case 'remove-psk': {
      const removed = pskStoreOf(server).remove(endpoint);
      return { payload: removed, topic: endpoint, details: {} };
    }
    case 'set-format': {
      // The device's preferred content format (tried first), e.g. LwM2M JSON for a 1.0 device that drops TLV requests.
      const p = msg.payload;
      const clear = p === null || p === undefined || p === '' || p === false || (typeof p === 'string' && /^(none|auto)$/i.test(p.trim()));
      const format = clear ? undefined : parseFormatName(p);
      if (!clear && format === undefined) {
        throw new FlowInputError(`set-format needs msg.payload as a content format number or name (e.g. 11543 or "lwm2m-json"; null to clear), not ${JSON.stringify(p)}`);
      }
      try {
        server.setPreferredFormat(endpoint, format);
      } catch (err) {
        throw new FlowInputError((err as Error).message);
      }
      return { payload: { endpoint, format: format ?? null }, topic: endpoint, details: {} };
    }
    case 'list': {
      // `endpoint` is a filter here ('' = every device); the path, when given, an object the devices must have.
      const path = pathOf(s.path, msg, false);
      if (path && !path.isObject() && !path.isInstance()) throw new FlowInputError(`list filters by an object /O or an instance /O/I, not ${path}`);
      const devices = listDevices(server, endpoint, path?.toString());
      const topic = path ? path.toString() : 'list';
      const details = { count: devices.length, filter: { endpoint: endpoint || undefined, path: path?.toString() } };
      if (s.split) return { payload: devices, payloads: devices, endpoints: devices.map((d) => d.endpoint), topic, details };
      return { payload: devices, topic, details };
    }
    default:
      throw new FlowInputError(`unknown operation "${String(op)}"; one of ${OPERATIONS.join(', ')}`);
  }
}
