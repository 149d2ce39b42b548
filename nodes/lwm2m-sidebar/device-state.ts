/**
 * What the sidebar remembers about a device beyond its registration: a bounded log of recent traffic and the last known
 * value of each path. Only the most recently active devices are remembered ({@link DeviceStates}, a bounded map), so a
 * million registered devices cost a fixed amount of memory; a device that is forgotten simply starts a fresh log.
 */
import { FifoMap } from '../../src/util/fifo-map';
import { Lwm2mValue } from '../../src/content/values';
import type { TrafficEvent } from '../../src/server/traffic';
import { shortText, toWire, WireValue } from './values';

export type LogKind =
  | 'register' | 'update' | 'deregister' | 'expired' | 'sleeping' | 'awake'
  | 'notify' | 'send' | 'observe-cancelled' | 'request' | 'response' | 'error';

/** One line of a device's traffic log. `dir`: `in` from the device, `out` to it, `event` for what the server noticed. */
export interface LogEntry {
  /** Increasing number (over every device), so the editor can ask for what is new. */
  seq: number;
  /** Epoch ms. */
  t: number;
  dir: 'in' | 'out' | 'event';
  kind: LogKind;
  /** Operation (read, write...) for requests and answers. */
  op?: string;
  path?: string;
  /** CoAP code of an answer, or error code. */
  code?: string;
  /** What to show; computed from `value` when absent (so recording costs no string building). */
  text?: string;
  value?: unknown;
  /** Builds `text` when the entry is shown (so recording costs no string building). */
  render?: () => string;
  /** The server's record of the exchange (sizes, formats, duration), shown as `info`. */
  traffic?: TrafficEvent;
  /** Who asked, when it was this sidebar (`sidebar`). */
  by?: string;
}

/** A log entry as sent to the editor. */
export interface WireLogEntry {
  seq: number;
  t: number;
  dir: LogEntry['dir'];
  kind: LogKind;
  op?: string;
  path?: string;
  code?: string;
  text: string;
  /** Sizes, formats and duration of the exchange, and who asked: `sent 6 B text · got 0 B · 12 ms · by sidebar`. */
  info?: string;
}

const SHORT_FORMATS: Record<number, string> = {
  0: 'text', 40: 'link', 42: 'opaque', 60: 'cbor', 110: 'senml+json', 112: 'senml+cbor', 11542: 'tlv', 11543: 'lwm2m+json',
  11544: 'lwm2m+cbor', 1542: 'tlv(old)', 1543: 'lwm2m+json(old)',
};

function bytes(size: number, format: number | undefined): string {
  return format === undefined ? `${size} B` : `${size} B ${SHORT_FORMATS[format] ?? `cf ${format}`}`;
}

/** `sent 6 B text · got 0 B · 12 ms · by sidebar`: what the log line says of the exchange besides its text. */
export function trafficInfo(ev: TrafficEvent | undefined, by?: string): string | undefined {
  const parts: string[] = [];
  if (ev?.direction === 'out') {
    if (ev.size > 0 || ev.format !== undefined) parts.push(`sent ${bytes(ev.size, ev.format)}`);
    if (ev.code !== undefined) parts.push(`got ${bytes(ev.answerSize ?? 0, ev.answerFormat)}`);
    parts.push(`${ev.durationMs < 10 ? ev.durationMs.toFixed(1) : Math.round(ev.durationMs)} ms`);
  } else if (ev) {
    parts.push(bytes(ev.size, ev.format));
  }
  if (by) parts.push(`by ${by}`);
  return parts.length ? parts.join(' · ') : undefined;
}

export function wireEntry(e: LogEntry): WireLogEntry {
  const text = e.text ?? (e.render ? e.render() : e.value === undefined && e.traffic ? '' : shortText(e.value));
  const out: WireLogEntry = { seq: e.seq, t: e.t, dir: e.dir, kind: e.kind, text };
  if (e.op !== undefined) out.op = e.op;
  if (e.path !== undefined) out.path = e.path;
  if (e.code !== undefined) out.code = e.code;
  const info = trafficInfo(e.traffic, e.by);
  if (info !== undefined) out.info = info;
  return out;
}

/** A fixed-capacity ring: the oldest item is overwritten. */
export class Ring<T> {
  private items: T[] = [];
  private next = 0;
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.next] = item;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  /** Items from the oldest to the newest. */
  toArray(): T[] {
    if (this.items.length < this.capacity || this.next === 0) return this.items.slice();
    return this.items.slice(this.next).concat(this.items.slice(0, this.next));
  }

  /** The newest item. */
  last(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.items[(this.next + this.items.length - 1) % this.items.length];
  }
}

/**
 * The last values of one numeric resource with their times, for the sidebar's charts: a fixed-capacity ring of
 * (epoch ms, value) pairs in two typed arrays, so a notification stream costs no allocation.
 */
export class Series {
  private readonly times: Float64Array;
  private readonly vals: Float64Array;
  private next = 0;
  private count = 0;
  /** Time of the newest point the watching editor was sent (points after it go out at the next flush). */
  sentT = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.vals = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(t: number, v: number): void {
    this.times[this.next] = t;
    this.vals[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** `[[t, v], ...]` from the oldest to the newest, only those later than `after` when given. */
  points(after = -Infinity): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const k = (start + i) % this.capacity;
      if (this.times[k] > after) out.push([this.times[k], this.vals[k]]);
    }
    return out;
  }

  /** Time of the newest point (0 when empty). */
  lastT(): number {
    return this.count === 0 ? 0 : this.times[(this.next - 1 + this.capacity) % this.capacity];
  }
}

/** The number a chart draws for a value: finite numbers, and integers beyond 2^53 as the nearest double. */
export function chartNumber(v: Lwm2mValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

export interface KnownValue {
  value: Lwm2mValue;
  /** Epoch ms when it was read or notified. */
  t: number;
}

export class DeviceState {
  readonly log: Ring<LogEntry>;
  readonly values = new Map<string, KnownValue>();
  /** Last time anything was heard from the device (epoch ms, 0 = nothing since it was remembered). */
  lastSeen = 0;
  /** When it last moved to the back of the bounded map. */
  touchedAt = 0;
  /** Paths whose value changed since the editor was last told (only while the device is watched). */
  dirtyPaths: Set<string> | undefined;
  /** Seq of the last log entry the editor was sent. */
  sentSeq = 0;
  /** Recent values of the observed numeric resources, by path (bounded: `maxSeries` paths, `seriesSize` points each). */
  readonly series = new Map<string, Series>();

  constructor(logSize: number, readonly maxValues: number, readonly maxSeries = 20, readonly seriesSize = 120) {
    this.log = new Ring<LogEntry>(logSize);
  }

  /** Adds a point to the chart of `path` when `value` is a number (notified or sent values). */
  addPoint(path: string, value: Lwm2mValue, t: number): void {
    const n = chartNumber(value);
    if (n === undefined || this.maxSeries <= 0) return;
    let s = this.series.get(path);
    if (!s) {
      if (this.series.size >= this.maxSeries) this.series.delete(this.series.keys().next().value as string);
      s = new Series(this.seriesSize);
      this.series.set(path, s);
    }
    s.push(t, n);
  }

  /** Every chart as `{ path: [[t, v], ...] }`. */
  wireSeries(): Record<string, Array<[number, number]>> {
    const out: Record<string, Array<[number, number]>> = {};
    for (const [p, s] of this.series) out[p] = s.points();
    return out;
  }

  setValue(path: string, value: Lwm2mValue, t: number): void {
    const known = this.values.get(path);
    if (known) {
      // Updated in place: a notification stream costs no allocation here.
      known.value = value;
      known.t = t;
    } else {
      if (this.values.size >= this.maxValues) {
        // Forget the oldest path (Map iteration follows insertion order).
        const first = this.values.keys().next().value as string;
        this.values.delete(first);
      }
      this.values.set(path, { value, t });
    }
    this.dirtyPaths?.add(path);
  }

  /** Forgets the values at or below `path` (an instance or object that was deleted). */
  dropValuesUnder(path: string): void {
    const prefix = path.endsWith('/') ? path : path + '/';
    for (const k of [...this.values.keys()]) if (k === path || k.startsWith(prefix)) this.values.delete(k);
    for (const k of [...this.series.keys()]) if (k === path || k.startsWith(prefix)) this.series.delete(k);
  }

  wireValues(): Record<string, { v: WireValue | null; t: number }> {
    const out: Record<string, { v: WireValue | null; t: number }> = {};
    for (const [p, kv] of this.values) out[p] = { v: toWire(kv.value), t: kv.t };
    return out;
  }
}

export interface DeviceStatesOptions {
  /** Devices remembered at once (default 2000). */
  maxDevices?: number;
  /** Log entries kept per device (default 100). */
  logSize?: number;
  /** Paths with a known value kept per device (default 500). */
  maxValues?: number;
  /** Observed numeric resources charted per device (default 20). */
  maxSeries?: number;
  /** Points kept per chart (default 120). */
  seriesSize?: number;
}

/** Numbers every log entry of the process, so that "entries after seq N" works across devices and servers. */
let logSeq = 0;

/** The remembered devices of one server, by endpoint: the least recently active are forgotten first. */
export class DeviceStates {
  private readonly map: FifoMap<DeviceState>;
  private readonly logSize: number;
  private readonly maxValues: number;
  private readonly maxSeries: number;
  private readonly seriesSize: number;

  constructor(opts: DeviceStatesOptions = {}) {
    this.map = new FifoMap<DeviceState>({ capacity: Math.max(1, opts.maxDevices ?? 2000), ttlMs: Infinity });
    this.logSize = Math.max(1, opts.logSize ?? 100);
    this.maxValues = Math.max(1, opts.maxValues ?? 500);
    this.maxSeries = Math.max(0, Math.floor(opts.maxSeries ?? 20));
    this.seriesSize = Math.max(2, Math.floor(opts.seriesSize ?? 120));
  }

  get size(): number {
    return this.map.size;
  }

  get(endpoint: string): DeviceState | undefined {
    return this.map.get(endpoint);
  }

  /** The device's state, created when absent; moved to the back (most recent) at most every few seconds. */
  touch(endpoint: string, now: number): DeviceState {
    let st = this.map.get(endpoint);
    if (!st) {
      st = new DeviceState(this.logSize, this.maxValues, this.maxSeries, this.seriesSize);
      st.touchedAt = now;
      this.map.set(endpoint, st, now);
    } else if (now - st.touchedAt > 5000) {
      st.touchedAt = now;
      this.map.set(endpoint, st, now);
    }
    return st;
  }

  /** Appends a log entry (and notes the device as seen when the entry came from it). */
  record(endpoint: string, now: number, entry: Omit<LogEntry, 'seq' | 't'>): LogEntry {
    const st = this.touch(endpoint, now);
    const e = entry as LogEntry;
    e.seq = ++logSeq;
    e.t = now;
    st.log.push(e);
    if (entry.dir === 'in') st.lastSeen = now;
    return e;
  }

  delete(endpoint: string): void {
    this.map.delete(endpoint);
  }
}
