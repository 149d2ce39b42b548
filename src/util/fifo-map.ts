/**
 * A bounded, insertion-ordered map with a time-to-live, for caches that must keep memory flat under a storm (CoAP
 * deduplication, block-wise transfer state).
 *
 * Layout: a `Map<string, slot>` whose values are small integers (no wrapper object per entry) and three parallel ring
 * arrays indexed by slot: keys, values, insertion times. The ring is the eviction order, so the oldest entry is found in
 * O(1) (iterating a Map from its start after many deletions is O(deleted) in V8, quadratic under churn: avoided here).
 * - `set` appends at the back (a replaced key moves to the back, its old slot becomes a hole).
 * - At `capacity` ring slots the oldest slot is evicted; holes are compacted away when they fill half the ring.
 * - `sweep(now)` drops entries older than `ttlMs` from the front; `get` ignores expired entries too.
 * - Optional `maxBytes` with a `sizeOf` function caps the summed size of values (oldest evicted first).
 * The ring grows by doubling up to `capacity`, so a mostly empty cache stays small.
 */
import { Lwm2mError } from '../errors';

export interface FifoMapOptions<V> {
  /** Most entries (ring slots) held at once. */
  capacity: number;
  /** Age after which an entry is dropped (ms, on the clock passed to set/get/sweep). */
  ttlMs: number;
  /** Cap on the summed `sizeOf(value)`; needs `sizeOf`. */
  maxBytes?: number;
  sizeOf?: (value: V) => number;
  /** Called for each entry dropped by capacity, bytes or age (not by delete/set/clear). */
  onEvict?: (key: string, value: V) => void;
}

export class FifoMap<V> {
  readonly capacity: number;
  readonly ttlMs: number;
  private readonly maxBytes: number;
  private readonly sizeOf: ((value: V) => number) | undefined;
  private readonly onEvict: ((key: string, value: V) => void) | undefined;
  private readonly index = new Map<string, number>();
  private keys: (string | undefined)[];
  private values: (V | undefined)[];
  private times: Float64Array;
  /** Per-slot `sizeOf` at insertion/update (only with `sizeOf`). */
  private sizes: Float64Array | null;
  /** Ring: slots head .. head+used-1 (mod length) are in use (live or holes). */
  private head = 0;
  private used = 0;
  private holes = 0;
  private bytes = 0;

  constructor(opts: FifoMapOptions<V>) {
    if (!(opts.capacity >= 1) || !Number.isFinite(opts.capacity)) throw new Lwm2mError('INVALID_ARGUMENT', `capacity must be >= 1 (got ${opts.capacity})`);
    if (!(opts.ttlMs > 0)) throw new Lwm2mError('INVALID_ARGUMENT', `ttlMs must be > 0 (got ${opts.ttlMs})`);
    this.capacity = Math.floor(opts.capacity);
    this.ttlMs = opts.ttlMs;
    this.maxBytes = opts.maxBytes ?? Infinity;
    this.sizeOf = opts.sizeOf;
    this.onEvict = opts.onEvict;
    const initial = Math.min(this.capacity, 64);
    this.keys = new Array(initial);
    this.values = new Array(initial);
    this.times = new Float64Array(initial);
    this.sizes = this.sizeOf ? new Float64Array(initial) : null;
  }

  /** Live entries. */
  get size(): number {
    return this.index.size;
  }

  /** Summed `sizeOf` of live values (0 without `sizeOf`). */
  get totalBytes(): number {
    return this.bytes;
  }

  has(key: string, now?: number): boolean {
    return this.get(key, now) !== undefined;
  }

  /** The value, unless absent or (when `now` is given) expired. */
  get(key: string, now?: number): V | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    if (now !== undefined && this.times[slot] + this.ttlMs <= now) return undefined;
    return this.values[slot];
  }

  /** Inserts at the back (newest). Replacing a key moves it to the back with a fresh time. */
  set(key: string, value: V, now: number): void {
    const old = this.index.get(key);
    if (old !== undefined) this.removeSlot(old);
    if (this.used === this.keys.length) this.makeRoom();
    const slot = (this.head + this.used) % this.keys.length;
    this.keys[slot] = key;
    this.values[slot] = value;
    this.times[slot] = now;
    this.used++;
    this.index.set(key, slot);
    if (this.sizeOf) {
      const n = this.sizeOf(value);
      this.sizes![slot] = n;
      this.bytes += n;
      while (this.bytes > this.maxBytes && this.index.size > 1) this.evictHead();
    }
  }

  /** Replaces the value of a present key in place (keeps its age and position). Returns false when absent. */
  update(key: string, value: V): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    if (this.sizeOf) {
      const n = this.sizeOf(value);
      this.bytes += n - this.sizes![slot];
      this.sizes![slot] = n;
    }
    this.values[slot] = value;
    return true;
  }

  delete(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.removeSlot(slot);
    return true;
  }

  /** Drops entries older than `ttlMs` (from the front). Returns how many were dropped. */
  sweep(now: number): number {
    let n = 0;
    const len = this.keys.length;
    while (this.used > 0) {
      const h = this.head;
      const k = this.keys[h];
      if (k !== undefined && this.times[h] + this.ttlMs > now) break;
      if (k !== undefined) {
        this.dropLive(h, true);
        n++;
      } else {
        this.holes--;
      }
      this.head = (h + 1) % len;
      this.used--;
    }
    if (this.used === 0) this.head = 0;
    return n;
  }

  /** Insertion time of the oldest live entry (Infinity when empty). */
  oldestTime(): number {
    const len = this.keys.length;
    for (let i = 0; i < this.used; i++) {
      const s = (this.head + i) % len;
      if (this.keys[s] !== undefined) return this.times[s];
    }
    return Infinity;
  }

  clear(): void {
    this.index.clear();
    const initial = Math.min(this.capacity, 64);
    this.keys = new Array(initial);
    this.values = new Array(initial);
    this.times = new Float64Array(initial);
    this.sizes = this.sizeOf ? new Float64Array(initial) : null;
    this.head = this.used = this.holes = this.bytes = 0;
  }

  *entries(): IterableIterator<[string, V]> {
    const len = this.keys.length;
    for (let i = 0; i < this.used; i++) {
      const s = (this.head + i) % len;
      const k = this.keys[s];
      if (k !== undefined) yield [k, this.values[s] as V];
    }
  }

  private removeSlot(slot: number): void {
    this.dropLive(slot, false);
    this.holes++;
  }

  /** Removes the live entry of a slot from the index (the slot stays in the ring: a hole, or consumed by the caller). */
  private dropLive(slot: number, evicted: boolean): void {
    const k = this.keys[slot] as string;
    const v = this.values[slot] as V;
    this.index.delete(k);
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    if (this.sizes) this.bytes -= this.sizes[slot];
    if (evicted && this.onEvict) this.onEvict(k, v);
  }

  /** Oldest slot out of the ring (evicting its entry if live). */
  private evictHead(): void {
    const h = this.head;
    if (this.keys[h] !== undefined) this.dropLive(h, true);
    else this.holes--;
    this.head = (h + 1) % this.keys.length;
    this.used--;
  }

  /** The ring is full: grow it, compact its holes, or evict the oldest slot. */
  private makeRoom(): void {
    const len = this.keys.length;
    if (len < this.capacity) return this.relayout(Math.min(this.capacity, len * 2));
    if (this.holes * 2 >= len) return this.relayout(len);
    while (this.used === this.keys.length) this.evictHead();
  }

  /** Copies live entries in order into fresh arrays of `size` slots (drops holes, re-indexes). */
  private relayout(size: number): void {
    const keys = new Array<string | undefined>(size);
    const values = new Array<V | undefined>(size);
    const times = new Float64Array(size);
    const sizes = this.sizes ? new Float64Array(size) : null;
    const len = this.keys.length;
    let j = 0;
    for (let i = 0; i < this.used; i++) {
      const s = (this.head + i) % len;
      const k = this.keys[s];
      if (k === undefined) continue;
      keys[j] = k;
      values[j] = this.values[s];
      times[j] = this.times[s];
      if (sizes) sizes[j] = this.sizes![s];
      this.index.set(k, j);
      j++;
    }
    this.keys = keys;
    this.values = values;
    this.times = times;
    this.sizes = sizes;
    this.head = 0;
    this.used = j;
    this.holes = 0;
  }
}
