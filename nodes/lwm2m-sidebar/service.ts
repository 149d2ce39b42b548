/**
 * The runtime half of the editor's LwM2M sidebar, without Node-RED: it follows every live server (the `lwm2m-server`
 * config nodes), lists their devices page by page, describes a device's object tree from the model, runs operations the
 * editor asks for, keeps a bounded log of each device's recent traffic and tells the editor what changed.
 *
 * Scale: listing is paged and filtered here (the editor never receives the whole fleet); per-device memory is bounded
 * (DeviceStates); live updates are coalesced into at most one message per topic per flush period, and per-device detail
 * is only pushed for the devices an editor has open ("watched", renewed by the editor, forgotten when not renewed).
 * One timer for the whole service, none per device.
 *
 * The log is built from the server's `traffic` events (every exchange with a device, whoever caused it: flows, this
 * sidebar, the device itself), completed with what the other events say (a Register's object list, a notification's
 * value, the value an operation from the sidebar read or wrote): one line per exchange.
 */
import type { Lwm2mServer, NotificationEvent, ObservationCancelledEvent, ObserveOptions, RegistrationChanges, SendEvent } from '../../src/server/server';
import type { ModelRegistry } from '../../src/model/registry';
import type { Observation } from '../../src/server/observation';
import type { TrafficEvent } from '../../src/server/traffic';
import { Registration, registrationObjects } from '../../src/server/registration';
import { Lwm2mError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { ObjectDef, ResourceDef, ResourceType } from '../../src/model/types';
import { Lwm2mRecord, Lwm2mValue } from '../../src/content/values';
import { formatName } from '../../src/content/formats';
import { formatRegistrationLinks } from '../../src/content/link';
import { DeviceState, DeviceStates, LogEntry, wireEntry, WireLogEntry } from './device-state';
import { SidebarInputError, SidebarNotFoundError } from './errors';
import { ModelDownloader, ModelStatus } from './model-download';
import { parseInput, recordsToWire, shortText, toWire, WireValue, RESOURCE_TYPES } from './values';

/** What the service needs of an `lwm2m-server` config node. */
export interface ServerHandle {
  id: string;
  name?: string;
  server: Lwm2mServer;
  registry: ModelRegistry;
}

export const TOPIC = {
  servers: 'lwm2m-sidebar/servers',
  devices: 'lwm2m-sidebar/devices',
  device: 'lwm2m-sidebar/device',
  models: 'lwm2m-sidebar/models',
} as const;

/** Owner given to observations the sidebar starts (servers that track owners show it). */
export const SIDEBAR_OWNER = 'lwm2m-sidebar';

/** Tells when the live servers change (nodes/lib/server-node.ts `liveServerEvents`). */
export interface ServerChanges {
  on(event: 'added' | 'removed', listener: () => void): unknown;
  off(event: 'added' | 'removed', listener: () => void): unknown;
}

export interface SidebarServiceOptions {
  /** The live servers (re-read when `serverChanges` says so, else at every flush, so deploys are followed). */
  servers: () => Iterable<ServerHandle>;
  /** Change notifications of `servers`: a new server is followed at once (its first Register is logged) and polling stops. */
  serverChanges?: ServerChanges;
  /** RED.comms.publish. */
  publish?: (topic: string, data: unknown) => void;
  /** Coalescing period of live updates (default 500 ms: at most 2 messages per second per topic). */
  flushMs?: number;
  /** Devices whose log and values are remembered, per server (default 2000). */
  maxDevices?: number;
  /** Log entries per device (default 100). */
  logSize?: number;
  /** Known values per device (default 500). */
  maxValues?: number;
  /** How long an editor's watch of a device lasts without renewal (default 60 s). */
  watchTtlMs?: number;
  /**
   * How long an observation started from the sidebar outlives the last editor watching its device (default 2 min, at
   * least 1 s; editors renew their watch every 20 s, so it must be longer than that). Pinned observations stay.
   */
  observeGraceMs?: number;
  /** Observed numeric resources charted per device (default 20; 0 turns charts off). */
  maxSeries?: number;
  /** Points kept per chart (default 120). */
  seriesSize?: number;
  /** Devices changed in one flush above which the editor is told to re-read its page instead (default 50). */
  maxChangedPerMessage?: number;
  models?: ModelDownloader;
  now?: () => number;
  warn?: (message: string) => void;
}

export interface ServerSummary {
  id: string;
  name: string;
  address?: string;
  port?: number;
  devices: number;
  observations: number;
}

/** A device as a list row shows it. No credentials: security mode only. */
export interface DeviceSummary {
  endpoint: string;
  address: string;
  port: number;
  transport: string;
  version: string;
  binding: string;
  queueMode: boolean;
  security: string;
  secure: boolean;
  lifetime: number;
  registeredAt: number;
  lastUpdateAt: number;
  /** Latest of the last Register/Update and the last message the sidebar saw from the device. */
  lastSeen: number;
  expiresAt: number;
  /** False while a queue-mode device sleeps. */
  awake: boolean;
  /** `asleep` (queue mode, sleeping), `expiring` (the lifetime is about to run out without an Update), else `awake`. */
  state: DeviceStateName;
}

export type DeviceStateName = 'awake' | 'asleep' | 'expiring';

/** Orders of the device list (`sort=` of listDevices); registration order when absent. */
export const DEVICE_SORTS = ['endpoint', 'state', 'lastSeen', 'expiresAt', 'registeredAt', 'address'] as const;
export type DeviceSort = typeof DEVICE_SORTS[number];

/**
 * A device is `expiring` once less than this is left of its lifetime: 5% of it, from 2 s to 60 s. Clients update some
 * time before the end (Core 1.1 6.2.2; ours at 10%), so a device this close to the end has missed its Update.
 */
export function expiringWithinMs(lifetimeS: number): number {
  return Math.min(60_000, Math.max(2_000, lifetimeS * 50));
}

export interface DevicePage {
  server: string;
  total: number;
  offset: number;
  limit: number;
  q: string;
  /** The order asked for (absent: registration order). */
  sort?: DeviceSort;
  desc?: boolean;
  items: DeviceSummary[];
}

export interface DeviceListParams {
  q?: unknown;
  offset?: unknown;
  limit?: unknown;
  /** One of {@link DEVICE_SORTS}; anything else keeps registration order. */
  sort?: unknown;
  /** `desc` / `1` / `true`: descending. */
  dir?: unknown;
}

/** Columns of a device list export (CSV header, JSON keys). */
export const EXPORT_COLUMNS = [
  'endpoint', 'state', 'address', 'port', 'transport', 'version', 'binding', 'queueMode', 'security', 'lifetime',
  'registeredAt', 'lastUpdateAt', 'lastSeen', 'expiresAt',
] as const;

/** Devices in one export at most. */
export const MAX_EXPORT = 100_000;

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; formula starters are defused. */
function csvField(v: unknown): string {
  let t = v === undefined || v === null ? '' : String(v);
  // A cell starting with = + - @ is a formula to spreadsheet programs: endpoint names come from devices.
  if (/^[=+\-@\t\r]/.test(t) && typeof v === 'string') t = "'" + t;
  return /[",\r\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
}

const STATE_RANK: Record<DeviceStateName, number> = { expiring: 0, asleep: 1, awake: 2 };
/** Sorted lists are reused this long for the next pages (scrolling), so a big fleet is not sorted for every page. */
const SORT_CACHE_MS = 2000;

export interface ResourceView {
  id: number;
  name: string;
  type: ResourceType;
  operations: string;
  multiple: boolean;
  mandatory: boolean;
  units?: string;
  range?: string;
  description?: string;
}

export interface ObjectView {
  id: number;
  /** Version the device announced (`ver=`), else the model's. */
  version?: string;
  name?: string;
  known: boolean;
  multiple?: boolean;
  mandatory?: boolean;
  description?: string;
  instances: number[];
  resources: ResourceView[];
  /** For unknown objects: whether a model can be downloaded. */
  model?: { status: ModelStatus; reason?: string };
}

export interface ObservationView {
  id: string;
  paths: string[];
  composite: boolean;
  createdAt: number;
  /** Started from the sidebar (it may cancel it); others belong to flows. */
  sidebar: boolean;
  /** A sidebar observation kept when no editor watches the device (else it ends after the grace period). */
  pinned?: boolean;
}

export interface DeviceDetail {
  server: string;
  device: DeviceSummary & { registrationId: string; rootPath: string; ct?: number[]; attributes?: Record<string, string> };
  objects: ObjectView[];
  values: Record<string, { v: WireValue | null; t: number }>;
  /** Recent values of observed numeric resources: `{ path: [[epoch ms, value], ...] }`, oldest first. */
  series: Record<string, Array<[number, number]>>;
  observations: ObservationView[];
  log: WireLogEntry[];
  /** Seq of the newest log entry (to ask for what follows). */
  seq: number;
  modelDownload: boolean;
}

export type OperationName =
  | 'read' | 'write' | 'execute' | 'observe' | 'cancel-observe' | 'pin-observe' | 'discover' | 'write-attributes' | 'create' | 'delete';
export const OPERATION_NAMES: readonly OperationName[] = [
  'read', 'write', 'execute', 'observe', 'cancel-observe', 'pin-observe', 'discover', 'write-attributes', 'create', 'delete',
];

/** An operation as the editor asks for it (POST body). */
export interface OperationRequest {
  op: OperationName;
  path: string;
  /** write: the text typed in the form (converted to the resource's type). */
  value?: unknown;
  /** write / create: resource type to use when the model does not know the resource. */
  type?: ResourceType;
  /** write on a multiple resource: the resource instance to write (default 0). */
  instance?: number;
  /** execute: arguments, Core 5.4.5 syntax `0='on',1`. */
  args?: string;
  /** write-attributes: `{ pmin: '10', pmax: '', gt: 'null' }`: empty leaves alone, null or 'null' removes. */
  attributes?: Record<string, unknown>;
  /** create: the new instance's id (optional) and resource values by resource id (texts). */
  instanceId?: number | string;
  values?: Record<string, unknown>;
  /** cancel-observe, pin-observe: the observation id (else every sidebar observation of `path`). */
  observation?: string;
  /** observe: keep the observation when no editor watches the device; pin-observe: pin (true) or unpin (false). */
  pinned?: boolean;
}

export interface OperationAnswer {
  op: OperationName;
  path: string;
  code?: string;
  format?: string;
  /** Values by path that the answer carried (read, observe) or that were written. */
  values?: Record<string, WireValue | null>;
  /** discover: links below the path. */
  links?: Array<{ path: string; attributes: Record<string, unknown> }>;
  /** create: the new instance. */
  instanceId?: number;
  observation?: ObservationView;
  /** observe: the path was already observed (by a flow or the sidebar): its notifications already update the values. */
  already?: boolean;
  cancelled?: number;
  message?: string;
}

const WRITE_ATTRIBUTES = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax', 'edge', 'con', 'hqmax'];
const MAX_LIMIT = 500;
const MAX_QUERY = 256;
/** Servers let go of whose remembered devices are kept for when they come back (a redeploy). */
const MAX_RELEASED = 4;

interface Attached {
  handle: ServerHandle;
  states: DeviceStates;
  changed: Set<string>;
  removed: Set<string>;
  countChanged: boolean;
  /** Observations started from the sidebar, by id. */
  mine: Map<string, SidebarObservation>;
  /**
   * Lines made from a server event ('registered', 'notification'...) whose `traffic` event is still to come (the server
   * emits it right after, in the same turn of the event loop), by `endpoint \0 register|update|deregister|send|notify <id>`.
   * Emptied at every flush, so one that never comes is not kept.
   */
  awaiting: Map<string, LogEntry>;
  off: () => void;
}

const MAX_AWAITING = 10_000;

/** An observation the sidebar started. */
interface SidebarObservation {
  endpoint: string;
  pinned: boolean;
  /** Since when no editor watches its device (epoch ms; undefined while one does). */
  unwatchedSince?: number;
}

function awaitKey(endpoint: string, what: string): string {
  return `${endpoint}\u0000${what}`;
}

function clip(s: string | undefined, n: number): string | undefined {
  if (s === undefined) return undefined;
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

function resourceView(r: ResourceDef): ResourceView {
  const v: ResourceView = { id: r.id, name: r.name, type: r.type, operations: r.operations, multiple: r.multiple, mandatory: r.mandatory };
  if (r.units) v.units = r.units;
  if (r.range) v.range = r.range;
  const d = clip(r.description, 300);
  if (d) v.description = d;
  return v;
}

/** `lwm2m=1.1 lt=300 b=U from 10.0.0.7:5683 </1/0>,</3/0>,...`: what a Register said, for the log. */
export function registerText(reg: Registration): string {
  const objects = Object.entries(registrationObjects(reg)).map(([id, o]) => ({ objectId: Number(id), version: o.version, instances: o.instances }));
  let links: string;
  try {
    links = formatRegistrationLinks({ rootPath: reg.rootPath, ct: reg.ct, objects });
  } catch {
    links = reg.objectLinks;
  }
  const text = `lwm2m=${reg.version} lt=${reg.lifetime} b=${reg.binding}${reg.queueMode && reg.version !== '1.0' ? ' Q' : ''} from ${reg.address}:${reg.port} ${links}`;
  return text.length > 600 ? text.slice(0, 599) + '…' : text;
}

function watchKey(server: string, endpoint: string): string {
  return `${server}\u0000${endpoint}`;
}

/** LogKind of a request from the device. */
const INCOMING_KIND = { register: 'register', update: 'update', deregister: 'deregister', send: 'send' } as const;
const INCOMING_LABEL = { register: 'Register', update: 'Update', deregister: 'De-register', send: 'Send' } as const;

/** An operation from the sidebar in flight: the log entry of its (last) exchange, once the server reported it. */
interface PendingOperation {
  entry?: LogEntry;
}

export class SidebarService {
  private readonly opts: SidebarServiceOptions;
  private readonly attached = new Map<string, Attached>();
  /** watch key -> expiry (epoch ms). */
  private readonly watches = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private serversChanged = false;
  private readonly now: () => number;
  private readonly flushMs: number;
  private readonly watchTtlMs: number;
  private readonly observeGraceMs: number;
  private readonly maxChanged: number;
  /** Device states of servers let go of recently, by config node id (bounded). */
  private readonly released = new Map<string, DeviceStates>();
  /** Operations from the sidebar in flight, by the `origin` given to the server. */
  private readonly pending = new Map<string, PendingOperation>();
  private opSeq = 0;
  /** The last sorted device list (one: the editor scrolls one list at a time). */
  private sortCache: { key: string; server: Lwm2mServer; at: number; size: number; items: DeviceSummary[] } | undefined;
  private readonly onServersChanged = (): void => {
    try {
      this.reconcile();
    } catch (err) {
      this.opts.warn?.(`LwM2M sidebar: ${(err as Error).message}`);
    }
  };

  constructor(opts: SidebarServiceOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.flushMs = opts.flushMs ?? 500;
    this.watchTtlMs = opts.watchTtlMs ?? 60_000;
    this.observeGraceMs = Math.max(1000, opts.observeGraceMs ?? 120_000);
    this.maxChanged = opts.maxChangedPerMessage ?? 50;
  }

  get models(): ModelDownloader | undefined {
    return this.opts.models;
  }

  /** Starts the (single, unref'd) flush timer and follows server changes. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.flushMs);
    this.timer.unref?.();
    this.opts.serverChanges?.on('added', this.onServersChanged);
    this.opts.serverChanges?.on('removed', this.onServersChanged);
    this.reconcile();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.opts.serverChanges?.off('added', this.onServersChanged);
    this.opts.serverChanges?.off('removed', this.onServersChanged);
    for (const a of this.attached.values()) a.off();
    this.attached.clear();
    this.released.clear();
    this.watches.clear();
  }

  // ---------------------------------------------------------------------------------------------- following servers

  /** Attaches to new servers and lets go of removed ones (a redeploy replaces the config node and its server). */
  reconcile(): void {
    const seen = new Set<string>();
    for (const h of this.opts.servers()) {
      seen.add(h.id);
      const a = this.attached.get(h.id);
      if (a && a.handle.server === h.server) continue;
      if (a) a.off();
      const states = a?.states ?? this.released.get(h.id);
      this.released.delete(h.id);
      this.attached.set(h.id, this.attach(h, states));
      this.serversChanged = true;
    }
    for (const [id, a] of this.attached) {
      if (seen.has(id)) continue;
      a.off();
      this.attached.delete(id);
      // A redeploy closes the config node before it creates the new one (same id): keep what was remembered for it.
      this.released.set(id, a.states);
      if (this.released.size > MAX_RELEASED) this.released.delete(this.released.keys().next().value as string);
      this.serversChanged = true;
    }
  }

  private attach(h: ServerHandle, states?: DeviceStates): Attached {
    const a: Attached = {
      handle: h,
      // A redeployed server keeps what was remembered of its devices (same config node id).
      states: states ?? new DeviceStates({
        maxDevices: this.opts.maxDevices, logSize: this.opts.logSize, maxValues: this.opts.maxValues,
        maxSeries: this.opts.maxSeries, seriesSize: this.opts.seriesSize,
      }),
      changed: new Set(),
      removed: new Set(),
      countChanged: true,
      mine: new Map(),
      awaiting: new Map(),
      off: () => undefined,
    };
    const s = h.server;
    const rec = (ep: string, e: Omit<LogEntry, 'seq' | 't'>) => a.states.record(ep, this.now(), e);
    /** A line whose traffic event follows. */
    const awaitTraffic = (ep: string, what: string, e: LogEntry) => {
      if (a.awaiting.size >= MAX_AWAITING) a.awaiting.clear();
      a.awaiting.set(awaitKey(ep, what), e);
    };
    const changed = (ep: string) => {
      a.changed.add(ep);
      a.removed.delete(ep);
    };
    const gone = (ep: string) => {
      a.removed.add(ep);
      a.changed.delete(ep);
      a.countChanged = true;
    };
    const onRegistered = (reg: Registration) => {
      awaitTraffic(reg.endpoint, 'register', rec(reg.endpoint, { dir: 'in', kind: 'register', render: () => registerText(reg) }));
      changed(reg.endpoint);
      a.countChanged = true;
      this.checkModels(a, reg);
    };
    const onUpdated = (reg: Registration, changes: RegistrationChanges) => {
      const keys = Object.keys(changes ?? {});
      awaitTraffic(reg.endpoint, 'update', rec(reg.endpoint, { dir: 'in', kind: 'update', text: keys.length ? `Update (${keys.join(', ')} changed)` : 'Update' }));
      changed(reg.endpoint);
      if (changes && 'objectLinks' in changes) this.checkModels(a, reg);
    };
    const onDeregistered = (reg: Registration) => {
      awaitTraffic(reg.endpoint, 'deregister', rec(reg.endpoint, { dir: 'in', kind: 'deregister', text: 'De-register' }));
      gone(reg.endpoint);
    };
    const onExpired = (reg: Registration) => {
      rec(reg.endpoint, { dir: 'event', kind: 'expired', text: `registration expired (lifetime ${reg.lifetime} s)` });
      gone(reg.endpoint);
    };
    const onSleeping = (reg: Registration) => {
      rec(reg.endpoint, { dir: 'event', kind: 'sleeping', text: 'queue mode: sleeping' });
      changed(reg.endpoint);
    };
    const onAwake = (reg: Registration) => {
      rec(reg.endpoint, { dir: 'event', kind: 'awake', text: 'queue mode: awake' });
      changed(reg.endpoint);
    };
    const onNotification = (ev: NotificationEvent) => {
      const ep = ev.registration.endpoint;
      const now = this.now();
      const st = a.states.touch(ep, now);
      this.learn(st, ev.records, now, true);
      awaitTraffic(ep, `notify ${ev.observation.id}`, a.states.record(ep, now, {
        dir: 'in', kind: 'notify', path: ev.observation.paths.join(','), code: ev.sequence !== undefined ? `#${ev.sequence}` : undefined,
        value: ev.records.length === 1 ? ev.records[0].value : ev.value,
      }));
    };
    const onSend = (ev: SendEvent) => {
      const ep = ev.registration.endpoint;
      const now = this.now();
      this.learn(a.states.touch(ep, now), ev.records, now, true);
      awaitTraffic(ep, 'send', a.states.record(ep, now, { dir: 'in', kind: 'send', path: '/dp', value: ev.value }));
    };
    const onTraffic = (ev: TrafficEvent) => this.traffic(a, ev);
    const onObservationCancelled = (ev: ObservationCancelledEvent) => {
      a.mine.delete(ev.observation.id);
      rec(ev.registration.endpoint, { dir: 'event', kind: 'observe-cancelled', path: ev.observation.paths.join(','), text: ev.reason });
    };
    const table: Array<[string, (...args: never[]) => void]> = [
      ['registered', onRegistered], ['updated', onUpdated], ['deregistered', onDeregistered], ['expired', onExpired],
      ['sleeping', onSleeping], ['awake', onAwake], ['notification', onNotification], ['send', onSend],
      ['observationCancelled', onObservationCancelled], ['traffic', onTraffic],
    ];
    const emitter = s as unknown as NodeJS.EventEmitter;
    for (const [ev, fn] of table) emitter.on(ev, fn as (...args: unknown[]) => void);
    a.off = () => {
      for (const [ev, fn] of table) emitter.removeListener(ev, fn as (...args: unknown[]) => void);
    };
    // Models downloaded earlier (cache folder) name objects this server's model does not know.
    const models = this.opts.models;
    if (models) {
      models.loadCache().then(() => {
        for (const d of models.all()) if (!h.registry.has(d.id)) h.registry.add(d);
      }, () => undefined);
    }
    return a;
  }

  /**
   * One exchange with a device, from the server. A request to the device gets its line (completed by operate() when the
   * sidebar asked); a request from the device or a notification completes the line its own event just made (the server
   * emits `traffic` right after 'registered', 'notification'...), or gets one when there was none (a refused Update, a
   * notification that could not be decoded).
   */
  private traffic(a: Attached, ev: TrafficEvent): void {
    const ep = ev.endpoint;
    if (ep === undefined) return;
    const now = this.now();
    if (ev.direction === 'out') {
      const failed = ev.error !== undefined || (ev.code !== undefined && !ev.code.startsWith('2.'));
      const e = a.states.record(ep, now, {
        dir: 'out', kind: failed ? 'error' : 'request', op: ev.operation, path: ev.path, code: ev.code,
        text: ev.error, traffic: ev,
      });
      if (ev.code !== undefined) a.states.touch(ep, now).lastSeen = now;
      const op = ev.origin !== undefined ? this.pending.get(ev.origin) : undefined;
      if (op) {
        e.by = 'sidebar';
        op.entry = e;
      }
      return;
    }
    const what = ev.kind === 'notification' ? `notify ${ev.observationId}` : ev.operation;
    if (what !== undefined && a.awaiting.size > 0) {
      const key = awaitKey(ep, what);
      const line = a.awaiting.get(key);
      if (line) {
        a.awaiting.delete(key);
        line.traffic = ev;
        if (line.code === undefined) line.code = ev.code;
        return;
      }
    }
    // Nothing to show it with: a refused Register of a device that is not registered.
    if (!a.states.get(ep) && !a.handle.server.getRegistration(ep)) return;
    const ok = ev.code.startsWith('2.');
    if (ev.kind === 'notification') {
      a.states.record(ep, now, { dir: 'in', kind: ok ? 'notify' : 'error', op: ok ? undefined : 'notify', path: ev.paths.join(','), code: ev.code, text: ok ? 'not decoded' : '', traffic: ev });
      return;
    }
    const label = ev.operation ? INCOMING_LABEL[ev.operation] : `${ev.method} ${ev.path}`;
    a.states.record(ep, now, {
      dir: 'in', kind: ok && ev.operation ? INCOMING_KIND[ev.operation] : 'error', path: ev.path, code: ev.code,
      text: ok ? label : `${label} refused`, traffic: ev,
    });
  }

  /** Remembers the values a message carried; `chart`: also as points of the paths' charts (notifications, Send). */
  private learn(st: DeviceState, records: readonly Lwm2mRecord[], now: number, chart = false): void {
    for (const r of records) {
      if (r.value === undefined) continue;
      const p = r.path.toString();
      st.setValue(p, r.value, now);
      if (chart) st.addPoint(p, r.value, now);
    }
  }

  /** Downloads (when enabled) the models of objects a device announced that no model knows. */
  private checkModels(a: Attached, reg: Registration): void {
    const models = this.opts.models;
    if (!models || !models.enabled) return;
    for (const key of Object.keys(registrationObjects(reg))) {
      const id = Number(key);
      if (a.handle.registry.has(id) || models.status(id) !== 'absent') continue;
      this.downloadModel(id).catch((err: Error) => this.opts.warn?.(`LwM2M object model ${id}: ${err.message}`));
    }
  }

  /** Gets an object's model (cache or registry) and adds it to every server's model that lacks it. */
  async downloadModel(objectId: number): Promise<ObjectDef[]> {
    const models = this.opts.models;
    if (!models) throw new SidebarNotFoundError('object models cannot be downloaded here');
    const defs = await models.ensure(objectId);
    for (const a of this.attached.values()) {
      if (!a.handle.registry.has(objectId)) for (const d of defs) a.handle.registry.add(d);
    }
    this.opts.publish?.(TOPIC.models, { objectId, name: defs[0]?.name });
    return defs;
  }

  /** The deployed server behind a sidebar server id (404 when there is none): for the device test routes. */
  serverHandle(id: unknown): ServerHandle {
    return this.server(id).handle;
  }

  private server(id: unknown): Attached {
    this.reconcile();
    const a = typeof id === 'string' ? this.attached.get(id) : undefined;
    if (!a) throw new SidebarNotFoundError(`no deployed LwM2M server ${typeof id === 'string' ? `"${id.slice(0, 40)}"` : ''}`.trimEnd());
    return a;
  }

  private registration(a: Attached, endpoint: unknown): Registration {
    if (typeof endpoint !== 'string' || endpoint === '') throw new SidebarInputError('no endpoint');
    const reg = a.handle.server.getRegistration(endpoint);
    if (!reg) throw new SidebarNotFoundError(`${endpoint.slice(0, 80)}: not registered with this server`);
    return reg;
  }

  // ---------------------------------------------------------------------------------------------- reading

  listServers(): ServerSummary[] {
    this.reconcile();
    const out: ServerSummary[] = [];
    for (const [id, a] of this.attached) {
      const s = a.handle.server;
      const sum: ServerSummary = { id, name: a.handle.name || '', devices: s.store.size, observations: s.store.observationCount };
      try {
        const addr = s.address();
        sum.address = addr.address;
        sum.port = addr.port;
      } catch {
        // not listening (yet, or any more)
      }
      out.push(sum);
    }
    return out;
  }

  private summary(a: Attached, reg: Registration): DeviceSummary {
    const st = a.states.get(reg.endpoint);
    const awake = !reg.queueMode || a.handle.server.isAwake(reg.endpoint);
    return {
      endpoint: reg.endpoint,
      address: reg.address,
      port: reg.port,
      transport: reg.transport,
      version: reg.version,
      binding: reg.binding,
      queueMode: reg.queueMode,
      security: reg.security,
      secure: reg.secure,
      lifetime: reg.lifetime,
      registeredAt: reg.registeredAt,
      lastUpdateAt: reg.lastUpdateAt,
      lastSeen: Math.max(reg.lastUpdateAt, st?.lastSeen ?? 0),
      expiresAt: reg.expiresAt,
      awake,
      state: !awake ? 'asleep' : reg.expiresAt - this.now() <= expiringWithinMs(reg.lifetime) ? 'expiring' : 'awake',
    };
  }

  /**
   * One page of a server's devices, in registration order, filtered by `q` (case-insensitive substring of the endpoint
   * or the address). Costs O(offset + limit) without a filter, one pass over the registrations with one.
   */
  listDevices(serverId: unknown, params: DeviceListParams = {}): DevicePage {
    const a = this.server(serverId);
    const q = typeof params.q === 'string' ? params.q.trim().toLowerCase().slice(0, MAX_QUERY) : '';
    const offset = Math.max(0, Math.floor(Number(params.offset) || 0));
    const rawLimit = Math.floor(Number(params.limit));
    const limit = Number.isFinite(rawLimit) && rawLimit > 0 ? Math.min(rawLimit, MAX_LIMIT) : 100;
    const sort = DEVICE_SORTS.find((x) => x === params.sort);
    if (sort) {
      const desc = params.dir === 'desc' || params.dir === '1' || params.dir === 'true' || params.dir === true;
      const all = this.sorted(a, q, sort, desc);
      return { server: a.handle.id, total: all.length, offset, limit, q, sort, desc, items: all.slice(offset, offset + limit) };
    }
    const store = a.handle.server.store;
    const items: DeviceSummary[] = [];
    let total = 0;
    if (q === '') {
      total = store.size;
      let i = 0;
      for (const reg of store.all()) {
        if (i >= offset + limit) break;
        if (i >= offset) items.push(this.summary(a, reg));
        i++;
      }
    } else {
      for (const reg of store.all()) {
        if (!reg.endpoint.toLowerCase().includes(q) && !reg.address.includes(q)) continue;
        if (total >= offset && total < offset + limit) items.push(this.summary(a, reg));
        total++;
      }
    }
    return { server: a.handle.id, total, offset, limit, q, items };
  }

  /**
   * Every device matching `q` as list rows, in the order `sort` (ties: endpoint), reused for SORT_CACHE_MS so the pages
   * of one scroll cost one sort. One pass and an O(n log n) sort over the registrations otherwise.
   */
  private sorted(a: Attached, q: string, sort: DeviceSort, desc: boolean): DeviceSummary[] {
    const key = `${a.handle.id}\u0000${q}\u0000${sort}\u0000${desc}`;
    const now = this.now();
    const c = this.sortCache;
    if (c && c.key === key && c.server === a.handle.server && now - c.at < SORT_CACHE_MS && c.size === a.handle.server.store.size) return c.items;
    const items: DeviceSummary[] = [];
    for (const reg of a.handle.server.store.all()) {
      if (q !== '' && !reg.endpoint.toLowerCase().includes(q) && !reg.address.includes(q)) continue;
      items.push(this.summary(a, reg));
    }
    const by = (d: DeviceSummary): number | string => {
      switch (sort) {
        case 'state': return STATE_RANK[d.state];
        case 'endpoint': return d.endpoint;
        case 'address': return d.address;
        default: return d[sort];
      }
    };
    const sign = desc ? -1 : 1;
    items.sort((x, y) => {
      const kx = by(x);
      const ky = by(y);
      const c0 = kx < ky ? -1 : kx > ky ? 1 : 0;
      if (c0 !== 0) return sign * c0;
      return x.endpoint < y.endpoint ? -1 : x.endpoint > y.endpoint ? 1 : 0;
    });
    this.sortCache = { key, server: a.handle.server, at: now, size: a.handle.server.store.size, items };
    return items;
  }

  /**
   * The device list as a file: every device matching `q` (at most {@link MAX_EXPORT}), in the list's order, with the
   * {@link EXPORT_COLUMNS}; times as ISO 8601 (UTC). `format`: `csv` (RFC 4180, a header line) or `json` (an array).
   */
  exportDevices(serverId: unknown, params: DeviceListParams & { format?: unknown } = {}): { contentType: string; filename: string; body: string } {
    const format = params.format === undefined || params.format === '' ? 'csv' : params.format;
    if (format !== 'csv' && format !== 'json') throw new SidebarInputError(`export format "${String(format).slice(0, 20)}" is not csv or json`);
    const page = this.listDevices(serverId, { ...params, offset: 0, limit: MAX_LIMIT });
    let items = page.items;
    if (page.total > items.length) {
      items = [];
      for (let off = 0; off < Math.min(page.total, MAX_EXPORT); off += MAX_LIMIT) {
        items.push(...this.listDevices(serverId, { ...params, offset: off, limit: MAX_LIMIT }).items);
      }
    }
    const iso = (ms: number) => (ms > 0 && Number.isFinite(ms) ? new Date(ms).toISOString() : '');
    const rows = items.slice(0, MAX_EXPORT).map((d) => {
      const r: Record<string, string | number | boolean> = {};
      for (const k of EXPORT_COLUMNS) {
        const v = d[k];
        r[k] = k === 'registeredAt' || k === 'lastUpdateAt' || k === 'lastSeen' || k === 'expiresAt' ? iso(v as number) : v;
      }
      return r;
    });
    const base = `lwm2m-devices-${new Date(this.now()).toISOString().slice(0, 19).replace(/:/g, '')}`;
    if (format === 'json') return { contentType: 'application/json; charset=utf-8', filename: `${base}.json`, body: JSON.stringify(rows, null, 2) };
    const lines = [EXPORT_COLUMNS.join(',')];
    for (const r of rows) lines.push(EXPORT_COLUMNS.map((k) => csvField(r[k])).join(','));
    return { contentType: 'text/csv; charset=utf-8', filename: `${base}.csv`, body: lines.join('\r\n') + '\r\n' };
  }

  /** A device: registration, object tree with names from the model, known values, observations and recent log. */
  device(serverId: unknown, endpoint: unknown): DeviceDetail {
    const a = this.server(serverId);
    const reg = this.registration(a, endpoint);
    const st = a.states.get(reg.endpoint);
    const log = st ? st.log.toArray().map(wireEntry) : [];
    const detail: DeviceDetail = {
      server: a.handle.id,
      device: { ...this.summary(a, reg), registrationId: reg.id, rootPath: reg.rootPath },
      objects: this.objects(a, reg),
      values: st ? st.wireValues() : {},
      series: st ? st.wireSeries() : {},
      observations: this.observations(a, reg.endpoint),
      log,
      seq: st?.log.last()?.seq ?? 0,
      modelDownload: this.opts.models?.enabled === true,
    };
    if (reg.ct) detail.device.ct = [...reg.ct];
    if (reg.attributes) detail.device.attributes = { ...reg.attributes };
    return detail;
  }

  private objects(a: Attached, reg: Registration): ObjectView[] {
    const registry = a.handle.registry;
    const models = this.opts.models;
    const out: ObjectView[] = [];
    const announced = registrationObjects(reg);
    for (const key of Object.keys(announced).map(Number).sort((x, y) => x - y)) {
      const o = announced[key];
      const def = registry.getObject(key, o.version);
      const view: ObjectView = { id: key, known: def !== undefined, instances: [...o.instances], resources: [] };
      if (o.version !== undefined) view.version = o.version;
      if (def) {
        view.name = def.name;
        view.version ??= def.version;
        view.multiple = def.multiple;
        view.mandatory = def.mandatory;
        const d = clip(def.description, 300);
        if (d) view.description = d;
        view.resources = Object.values(def.resources).sort((x, y) => x.id - y.id).map(resourceView);
      } else {
        view.resources = [];
        const status: ModelStatus = models ? models.status(key) : 'off';
        view.model = { status };
        const reason = models?.failure(key);
        if (reason) view.model.reason = reason;
      }
      out.push(view);
    }
    return out;
  }

  private observations(a: Attached, endpoint: string): ObservationView[] {
    let list: Observation[] = [];
    try {
      list = a.handle.server.observations(endpoint);
    } catch {
      list = [];
    }
    return list.map((o) => {
      const mine = a.mine.get(o.id);
      const v: ObservationView = { id: o.id, paths: [...o.paths], composite: o.composite, createdAt: o.createdAt, sidebar: mine !== undefined };
      if (mine) v.pinned = mine.pinned;
      return v;
    });
  }

  /** Log entries of a device newer than `after` (all when absent). */
  log(serverId: unknown, endpoint: unknown, after?: unknown): WireLogEntry[] {
    const a = this.server(serverId);
    if (typeof endpoint !== 'string' || endpoint === '') throw new SidebarInputError('no endpoint');
    const st = a.states.get(endpoint);
    if (!st) return [];
    const since = Number(after) || 0;
    return st.log.toArray().filter((e) => e.seq > since).map(wireEntry);
  }

  /**
   * An editor has this device open: push its new log entries and changed values for a while (renewed by calling again).
   * `after`: seq of the last log entry the editor already has.
   */
  watch(serverId: unknown, endpoint: unknown, after?: unknown): { ttlMs: number } {
    const a = this.server(serverId);
    const reg = this.registration(a, endpoint);
    const key = watchKey(a.handle.id, reg.endpoint);
    if (!this.watches.has(key) && this.watches.size >= 256) throw new SidebarInputError('too many devices watched at once');
    const st = a.states.touch(reg.endpoint, this.now());
    if (!this.watches.has(key)) {
      st.dirtyPaths = new Set();
      // The first push after a watch starts carries every chart (the editor drops the points it already has).
      for (const series of st.series.values()) series.sentT = 0;
      const since = Number(after);
      st.sentSeq = Number.isFinite(since) && since >= 0 ? since : (st.log.last()?.seq ?? 0);
    }
    this.watches.set(key, this.now() + this.watchTtlMs);
    return { ttlMs: this.watchTtlMs };
  }

  unwatch(serverId: unknown, endpoint: unknown): void {
    if (typeof serverId !== 'string' || typeof endpoint !== 'string') return;
    this.watches.delete(watchKey(serverId, endpoint));
    const st = this.attached.get(serverId)?.states.get(endpoint);
    if (st) st.dirtyPaths = undefined;
  }

  // ---------------------------------------------------------------------------------------------- live updates

  /** Publishes what changed since the last flush (called by the timer; public for tests). */
  flush(): void {
    // Polling is the fallback when nobody tells us of server changes.
    if (!this.opts.serverChanges) this.reconcile();
    const publish = this.opts.publish;
    const now = this.now();
    if (this.serversChanged) {
      this.serversChanged = false;
      publish?.(TOPIC.servers, { servers: this.listServers() });
    }
    for (const a of this.attached.values()) {
      // A traffic event follows its server event in the same turn of the event loop; what is left never comes.
      a.awaiting.clear();
      if (a.changed.size === 0 && a.removed.size === 0 && !a.countChanged) continue;
      const msg: Record<string, unknown> = { server: a.handle.id, total: a.handle.server.store.size };
      if (a.changed.size + a.removed.size > this.maxChanged) {
        msg.resync = true;
      } else {
        const changed: DeviceSummary[] = [];
        for (const ep of a.changed) {
          const reg = a.handle.server.getRegistration(ep);
          if (reg) changed.push(this.summary(a, reg));
        }
        msg.changed = changed;
        msg.removed = [...a.removed];
      }
      a.changed.clear();
      a.removed.clear();
      a.countChanged = false;
      publish?.(TOPIC.devices, msg);
    }
    for (const [key, until] of this.watches) {
      const [serverId, endpoint] = key.split('\u0000');
      const a = this.attached.get(serverId);
      const st = a?.states.get(endpoint);
      if (until <= now || !a || !st) {
        this.watches.delete(key);
        if (st) st.dirtyPaths = undefined;
        continue;
      }
      const last = st.log.last()?.seq ?? 0;
      const dirty = st.dirtyPaths;
      let newPoints = false;
      for (const series of st.series.values()) if (series.lastT() > series.sentT) newPoints = true;
      if (last <= st.sentSeq && (!dirty || dirty.size === 0) && !newPoints) continue;
      const msg: Record<string, unknown> = { server: serverId, endpoint };
      if (last > st.sentSeq) {
        msg.log = st.log.toArray().filter((e) => e.seq > st.sentSeq).map(wireEntry);
        st.sentSeq = last;
      }
      if (dirty && dirty.size > 0) {
        const values: Record<string, { v: WireValue | null; t: number }> = {};
        for (const p of dirty) {
          const kv = st.values.get(p);
          if (kv) values[p] = { v: toWire(kv.value), t: kv.t };
        }
        dirty.clear();
        msg.values = values;
      }
      if (newPoints) {
        const points: Record<string, Array<[number, number]>> = {};
        for (const [p, series] of st.series) {
          const lastT = series.lastT();
          if (lastT <= series.sentT) continue;
          points[p] = series.points(series.sentT);
          series.sentT = lastT;
        }
        msg.points = points;
      }
      const reg = a.handle.server.getRegistration(endpoint);
      msg.device = reg ? this.summary(a, reg) : null;
      msg.observations = reg ? this.observations(a, endpoint) : [];
      publish?.(TOPIC.device, msg);
    }
    this.sweepObservations(now);
  }

  /**
   * Ends the sidebar's observations of devices that no editor has watched for the grace period (a browser closed with
   * an observation running), except pinned ones: one pass over the sidebar's own observations at every flush, no timer
   * per observation. The device is told at once when it is awake (an Observe deregistration, GET with Observe = 1, RFC
   * 7641 3.6 / Core 1.1 6.4.6 "Cancel Observation"); a sleeping one answers its next notification with RST (passive
   * cancel), as the server has forgotten the token.
   */
  private sweepObservations(now: number): void {
    for (const a of this.attached.values()) {
      if (a.mine.size === 0) continue;
      for (const [id, o] of a.mine) {
        if (o.pinned) {
          o.unwatchedSince = undefined;
          continue;
        }
        const until = this.watches.get(watchKey(a.handle.id, o.endpoint));
        if (until !== undefined && until > now) {
          o.unwatchedSince = undefined;
          continue;
        }
        if (o.unwatchedSince === undefined) {
          o.unwatchedSince = now;
          continue;
        }
        if (now - o.unwatchedSince < this.observeGraceMs) continue;
        a.mine.delete(id);
        this.endObservation(a, o.endpoint, id);
      }
    }
  }

  private endObservation(a: Attached, endpoint: string, id: string): void {
    const s = a.handle.server;
    const reg = s.getRegistration(endpoint);
    if (!reg) return;
    const path = s.observations(endpoint).find((x) => x.id === id)?.paths.join(',');
    if (path === undefined) return;
    const active = !reg.queueMode || s.isAwake(endpoint);
    a.states.record(endpoint, this.now(), {
      dir: 'event', kind: 'observe-cancelled', path,
      text: `no editor has watched this device for ${Math.round(this.observeGraceMs / 1000)} s: observation from the sidebar ended (pin it to keep it)`,
    });
    s.cancelObservation(endpoint, id, { active, origin: SIDEBAR_OWNER }).catch((err: Error) => {
      this.opts.warn?.(`LwM2M sidebar: cancelling the observation of ${endpoint} ${path}: ${err.message}`);
    });
  }

  // ---------------------------------------------------------------------------------------------- operations

  /**
   * Runs an operation on a device for the editor. Its exchanges reach the device's log through the server's `traffic`
   * events (marked "by sidebar"); this completes the line with what the answer meant (the value read, the value
   * written...), or adds one when nothing was sent.
   * @throws {SidebarInputError} for a request that cannot be sent; the library's errors (timeouts, CoAP error codes...)
   */
  async operate(serverId: unknown, endpoint: unknown, body: unknown): Promise<OperationAnswer> {
    const a = this.server(serverId);
    const reg = this.registration(a, endpoint);
    const ep = reg.endpoint;
    if (typeof body !== 'object' || body === null) throw new SidebarInputError('the request body must be a JSON object');
    const req = body as Partial<OperationRequest>;
    const op = req.op as OperationName;
    if (!OPERATION_NAMES.includes(op)) throw new SidebarInputError(`unknown operation "${String(req.op).slice(0, 30)}" (one of ${OPERATION_NAMES.join(', ')})`);
    let path: Lwm2mPath;
    try {
      path = Lwm2mPath.parse(String(req.path ?? ''));
    } catch (err) {
      throw new SidebarInputError((err as Error).message);
    }
    const p = path.toString();
    const what = `${ep} ${p}`;
    const s = a.handle.server;
    const registry = a.handle.registry;
    const rec = (e: Omit<LogEntry, 'seq' | 't'>) => a.states.record(ep, this.now(), e);
    const origin = `${SIDEBAR_OWNER}#${++this.opSeq}`;
    const o = { origin };
    const pending: PendingOperation = {};
    let requestText = '';
    /** What the answer meant, on the line of the operation's (last) exchange; its own line when nothing was sent. */
    const done = (e: { code?: string; text?: string; value?: unknown }): void => {
      const x = pending.entry;
      if (!x) {
        rec({ dir: 'in', kind: 'response', op, path: p, ...e });
        return;
      }
      if (e.value !== undefined) x.value = e.value;
      else x.text = e.text ?? requestText;
    };
    const typeOf = (rp: Lwm2mPath): ResourceType => {
      const def = rp.resourceId !== undefined ? registry.getResource(rp.objectId!, rp.resourceId) : undefined;
      if (def) return def.type;
      if (req.type !== undefined) {
        if (!RESOURCE_TYPES.includes(req.type)) throw new SidebarInputError(`${what}: unknown resource type "${String(req.type).slice(0, 20)}"`);
        return req.type;
      }
      return 'string';
    };

    // Requests are validated before anything is logged or sent.
    let run: () => Promise<OperationAnswer>;
    switch (op) {
      case 'read':
        run = async () => {
          const r = await s.read(ep, path, o);
          this.learn(a.states.touch(ep, this.now()), r.records, this.now());
          done({ code: r.code, value: r.records.length === 1 ? r.records[0].value : r.value });
          return { op, path: p, code: r.code, format: formatName(r.format), values: recordsToWire(r.records) };
        };
        break;
      case 'write': {
        if (path.length < 3) throw new SidebarInputError(`${what}: the sidebar writes a resource or a resource instance`);
        const def = registry.getResource(path.objectId!, path.resourceId!);
        if (def && def.operations !== 'W' && def.operations !== 'RW') throw new SidebarInputError(`${what}: ${def.name} is not writable (operations "${def.operations}")`);
        const value = parseInput(typeOf(path), req.value, what);
        let target = path;
        let writePath = path;
        let payload: unknown = value;
        if (path.isResource() && def?.multiple) {
          const ri = req.instance === undefined || (req.instance as unknown) === '' ? 0 : Number(req.instance);
          if (!Number.isInteger(ri) || ri < 0 || ri > 65535) throw new SidebarInputError(`${what}: resource instance must be an integer from 0 to 65535`);
          target = path.child(ri);
          if (reg.version === '1.0') {
            // LwM2M 1.0 cannot write one resource instance (Core 1.1 6.3.3 added it): the resource is replaced with this
            // single instance.
            payload = { [ri]: value };
          } else {
            writePath = target;
          }
        }
        requestText = `${shortText(value)}${target !== path ? ` (instance ${target.resourceInstanceId}${writePath === path ? ', replacing the resource' : ''})` : ''}`;
        run = async () => {
          const r = await s.write(ep, writePath, payload, { replace: true, origin });
          const now = this.now();
          a.states.touch(ep, now).setValue(target.toString(), value, now);
          done({ code: r.code });
          return { op, path: p, code: r.code, format: formatName(r.format), values: { [target.toString()]: toWire(value) } };
        };
        break;
      }
      case 'execute': {
        if (!path.isResource()) throw new SidebarInputError(`${what}: Execute targets a resource /O/I/R`);
        const args = typeof req.args === 'string' && req.args.trim() !== '' ? req.args.trim() : undefined;
        if (req.args !== undefined && typeof req.args !== 'string') throw new SidebarInputError(`${what}: execute arguments must be text, e.g. 0='on',1`);
        requestText = args ?? '';
        run = async () => {
          const r = await s.execute(ep, path, args, o);
          done({ code: r.code });
          return { op, path: p, code: r.code };
        };
        break;
      }
      case 'observe':
        run = async () => {
          const existing = this.observations(a, ep).find((o) => !o.composite && o.paths.length === 1 && o.paths[0] === p);
          if (existing) {
            rec({ dir: 'event', kind: 'response', op, path: p, text: `already observed${existing.sidebar ? ' from the sidebar' : ' by a flow'}: its notifications update the values` });
            return { op, path: p, already: true, observation: existing };
          }
          const opts: ObserveOptions = { owner: SIDEBAR_OWNER, origin };
          const r = await s.observe(ep, path, opts);
          a.mine.set(r.id, { endpoint: ep, pinned: req.pinned === true });
          // The answer carries the first value of the observation: the first point of its chart.
          this.learn(a.states.touch(ep, this.now()), r.records, this.now(), true);
          done({ code: r.code, value: r.records.length === 1 ? r.records[0].value : r.value });
          const view: ObservationView = { id: r.id, paths: [...r.paths], composite: r.composite, createdAt: r.createdAt, sidebar: true, pinned: req.pinned === true };
          return { op, path: p, code: r.code, format: formatName(r.format), values: recordsToWire(r.records), observation: view };
        };
        break;
      case 'cancel-observe': {
        const id = typeof req.observation === 'string' && req.observation ? req.observation : undefined;
        run = async () => {
          const targets = this.observations(a, ep).filter((o) => (id ? o.id === id : o.paths.includes(p)));
          if (targets.length === 0) throw new SidebarNotFoundError(`${what}: no observation to cancel`);
          const foreign = targets.filter((o) => !o.sidebar);
          if (foreign.length > 0) throw new SidebarInputError(`${what}: observed by a flow (an lwm2m observe node): cancel it there`);
          for (const o of targets) {
            // Passive cancel (RFC 7641 3.6): the server forgets the token and answers the next notification with RST, which
            // also works for a sleeping device.
            await s.cancelObservation(ep, o.id);
            a.mine.delete(o.id);
          }
          rec({ dir: 'event', kind: 'response', op, path: p, text: `cancelled ${targets.length} observation${targets.length === 1 ? '' : 's'} (the next notification is answered with RST)` });
          return { op, path: p, cancelled: targets.length };
        };
        break;
      }
      case 'pin-observe': {
        const id = typeof req.observation === 'string' && req.observation ? req.observation : undefined;
        if (typeof req.pinned !== 'boolean') throw new SidebarInputError(`${what}: pinned must be true or false`);
        const pinned = req.pinned;
        run = async () => {
          const targets = this.observations(a, ep).filter((o) => (id ? o.id === id : o.paths.includes(p)));
          if (targets.length === 0) throw new SidebarNotFoundError(`${what}: no observation to pin`);
          if (targets.some((o) => !o.sidebar)) throw new SidebarInputError(`${what}: observed by a flow (an lwm2m observe node), which keeps it anyway`);
          for (const o of targets) {
            const mine = a.mine.get(o.id)!;
            mine.pinned = pinned;
            mine.unwatchedSince = undefined;
          }
          rec({ dir: 'event', kind: 'response', op, path: p, text: pinned ? 'pinned: the observation stays when no editor is open' : `unpinned: the observation ends ${Math.round(this.observeGraceMs / 1000)} s after the last editor closes the device` });
          return { op, path: p, observation: { ...targets[0], pinned } };
        };
        break;
      }
      case 'discover':
        if (path.isRoot()) throw new SidebarInputError(`${what}: Discover targets an object, an instance or a resource`);
        run = async () => {
          const r = await s.discover(ep, path, o);
          const links = r.entries.slice(0, 2000).map((e) => ({ path: e.path.toString(), attributes: { ...e.attributes } as Record<string, unknown> }));
          done({ code: r.code, text: links.map((l) => l.path + Object.entries(l.attributes).map(([k, v]) => `;${k}${v === true ? '' : '=' + String(v)}`).join('')).join(',') });
          return { op, path: p, code: r.code, links };
        };
        break;
      case 'write-attributes': {
        if (path.isRoot()) throw new SidebarInputError(`${what}: Write-Attributes targets an object, an instance or a resource`);
        const raw = req.attributes;
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SidebarInputError(`${what}: attributes must be an object such as { "pmin": "10" }`);
        const attrs: Record<string, number | null> = {};
        for (const [k, v] of Object.entries(raw)) {
          if (!WRITE_ATTRIBUTES.includes(k)) throw new SidebarInputError(`${what}: unknown attribute "${k.slice(0, 20)}" (${WRITE_ATTRIBUTES.join(', ')})`);
          if (v === undefined || v === '') continue;
          if (v === null || v === 'null' || v === '-') {
            attrs[k] = null;
            continue;
          }
          const n = typeof v === 'number' ? v : typeof v === 'string' && /^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(v.trim()) ? Number(v) : NaN;
          if (!Number.isFinite(n)) throw new SidebarInputError(`${what}: attribute ${k} must be a number (or empty, or null to remove it)`);
          attrs[k] = n;
        }
        if (Object.keys(attrs).length === 0) throw new SidebarInputError(`${what}: no attribute to write`);
        requestText = Object.entries(attrs).map(([k, v]) => (v === null ? k : `${k}=${v}`)).join('&');
        run = async () => {
          const r = await s.writeAttributes(ep, path, attrs, o);
          done({ code: r.code });
          return { op, path: p, code: r.code };
        };
        break;
      }
      case 'create': {
        if (!path.isObject()) throw new SidebarInputError(`${what}: Create targets an object /O`);
        let instanceId: number | undefined;
        if (req.instanceId !== undefined && req.instanceId !== '' && req.instanceId !== null) {
          instanceId = Number(req.instanceId);
          if (!Number.isInteger(instanceId) || instanceId < 0 || instanceId > 65534) throw new SidebarInputError(`${what}: instance id must be an integer from 0 to 65534`);
        }
        const values: Record<number, Lwm2mValue> = {};
        const rawValues = req.values ?? {};
        if (typeof rawValues !== 'object' || rawValues === null || Array.isArray(rawValues)) throw new SidebarInputError(`${what}: values must be an object of resource id: value`);
        for (const [k, v] of Object.entries(rawValues)) {
          if (!/^\d{1,5}$/.test(k) || Number(k) > 65535) throw new SidebarInputError(`${what}: "${k.slice(0, 20)}" is not a resource id`);
          if (v === undefined || v === '') continue;
          values[Number(k)] = parseInput(typeOf(path.child(0).child(Number(k))), v, `${what}/${k}`);
        }
        requestText = `${instanceId !== undefined ? `instance ${instanceId} ` : ''}${shortText(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, toWire(v)])))}`;
        run = async () => {
          const r = await s.create(ep, path, values, instanceId, o);
          const now = this.now();
          const st = a.states.touch(ep, now);
          for (const [k, v] of Object.entries(values)) st.setValue(`${r.path}/${k}`, v, now);
          done({ code: r.code, text: `created ${r.path}` });
          return { op, path: p, code: r.code, instanceId: r.instanceId };
        };
        break;
      }
      case 'delete':
        if (!path.isInstance()) throw new SidebarInputError(`${what}: Delete targets an object instance /O/I`);
        run = async () => {
          const r = await s.delete(ep, path, o);
          a.states.get(ep)?.dropValuesUnder(p);
          done({ code: r.code });
          return { op, path: p, code: r.code };
        };
        break;
    }
    this.pending.set(origin, pending);
    try {
      return await run!();
    } catch (err) {
      const e = err as Error & { code?: string };
      const text = e.message ?? String(err);
      const x = pending.entry;
      if (x) {
        // The exchange's line (its CoAP code, or none after a timeout) says why.
        x.kind = 'error';
        x.text = text;
      } else {
        rec({ dir: 'event', kind: 'error', op, path: p, code: typeof e.code === 'string' ? e.code : undefined, text });
      }
      throw err;
    } finally {
      this.pending.delete(origin);
    }
  }
}

/** HTTP status for an error thrown by the service or the library. */
export function statusOf(err: unknown): number {
  const e = err as { status?: unknown; code?: unknown };
  if (typeof e?.status === 'number') return e.status;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (!(err instanceof Lwm2mError) && code === '') return 500;
  if (code === 'UNKNOWN_ENDPOINT' || code === 'UNKNOWN_OBSERVATION') return 404;
  if (code === 'TIMEOUT' || code === 'QUEUE_TIMEOUT') return 504;
  if (code.startsWith('COAP_')) return 502;
  if (code === 'QUEUE_FULL' || code === 'CANCELLED' || code === 'SERVER_STATE') return 503;
  if (['INVALID_PATH', 'INVALID_ARGUMENT', 'ENCODE', 'UNSUPPORTED_OPERATION', 'NO_FORMAT', 'MODEL_DOWNLOAD', 'MODEL'].includes(code)) return 400;
  if (code === 'DECODE' || code === 'BAD_RESPONSE' || code === 'UNSUPPORTED_FORMAT') return 502;
  return err instanceof Lwm2mError ? 400 : 500;
}
