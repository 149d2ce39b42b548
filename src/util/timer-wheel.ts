/**
 * A hashed timer wheel with a sparse second level, driven by ONE underlying `setTimeout` per wheel.
 *
 * Built for millions of entries (CoAP retransmissions and request deadlines, registration lifetimes):
 * - `schedule` and `cancel` are O(1): an entry is a small object (about 40 bytes: five pointers and a small-integer tick)
 *   linked into a doubly-linked bucket list. Pass the callback's argument as `arg` to avoid a closure per entry.
 * - Level 1 ("near") is an array of `slots` buckets, one per tick of `resolutionMs`, covering one epoch of
 *   `slots * resolutionMs` ms (default 1024 x 10 ms = 10.24 s). Level 2 ("far") is a Map from epoch number to a bucket;
 *   when the wheel enters an epoch, that epoch's bucket is moved into the near slots (each entry moves at most once).
 * - The underlying timer sleeps until the next non-empty tick (or the next far epoch), so an idle or far-only wheel does not
 *   wake up every tick. The timer is unref'd: a wheel never keeps the process alive.
 *
 * Resolution: a callback never runs early. It runs on the first tick boundary at or after its time, i.e. between `atMs` and
 * `atMs + resolutionMs` plus event-loop latency. Callbacks due in the same tick run in the order they were scheduled.
 *
 * Clock: {@link TimerWheel.now} is monotonic (`performance.timeOrigin + performance.now()`), which stays close to
 * `Date.now()` but never jumps with wall-clock changes. Pass absolute times on that clock (e.g. `wheel.now() + 5000`), or use
 * {@link TimerWheel.scheduleIn}.
 */

import { performance } from 'perf_hooks';
import { Lwm2mError } from '../errors';

export type TimerCallback<T = unknown> = (arg: T) => void;

/** Opaque handle of a scheduled entry (pass it to `cancel`). */
export abstract class TimerHandle {
  declare private readonly timerHandleBrand: void;
}

class Bucket {
  head: Entry | null = null;
  tail: Entry | null = null;
  count = 0;
  constructor(readonly near: boolean) {}
}

/** ~40 bytes: five pointers and a small-integer tick (ticks count from the wheel's creation, so they stay Smis). */
class Entry extends TimerHandle {
  prev: Entry | null = null;
  next: Entry | null = null;
  bucket: Bucket | null = null;
  constructor(public tick: number, public cb: TimerCallback<any> | null, public arg: unknown) {
    super();
  }
}

export interface TimerWheelOptions {
  /** Tick length in ms (default 10). */
  resolutionMs?: number;
  /** Number of near slots, rounded up to a power of two (default 1024). */
  slots?: number;
  /**
   * Called when a callback throws. Default: the error is rethrown asynchronously (like an error in a `setTimeout`
   * callback). Other due callbacks still run.
   */
  onError?: (err: unknown) => void;
  /** Clock in ms (tests). Default: monotonic `performance.timeOrigin + performance.now()`. */
  clock?: () => number;
}

const defaultClock = (): number => performance.timeOrigin + performance.now();

export class TimerWheel {
  readonly resolutionMs: number;
  private readonly slotCount: number;
  private readonly mask: number;
  private readonly shift: number;
  private readonly near: Bucket[];
  private readonly far = new Map<number, Bucket>();
  private readonly clock: () => number;
  /** Clock value of tick 0. */
  private readonly origin: number;
  private readonly onError: ((err: unknown) => void) | undefined;
  /** Last tick processed: every entry with tick <= cur has fired. */
  private cur: number;
  private nearCount = 0;
  private count = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Tick the underlying timer is armed for (Infinity when not armed). */
  private timerTick = Infinity;
  private closed = false;
  private running = false;

  constructor(opts: TimerWheelOptions = {}) {
    const res = opts.resolutionMs ?? 10;
    if (!(res > 0) || !Number.isFinite(res)) throw new Lwm2mError('INVALID_ARGUMENT', `timer wheel resolution must be > 0 (got ${res})`);
    let slots = Math.max(2, Math.floor(opts.slots ?? 1024));
    if (!Number.isFinite(slots) || slots > 1 << 24) throw new Lwm2mError('INVALID_ARGUMENT', `timer wheel slots out of range (got ${opts.slots})`);
    let shift = 1;
    while (1 << shift < slots) shift++;
    slots = 1 << shift;
    this.resolutionMs = res;
    this.slotCount = slots;
    this.shift = shift;
    this.mask = slots - 1;
    this.near = new Array<Bucket>(slots);
    for (let i = 0; i < slots; i++) this.near[i] = new Bucket(true);
    this.clock = opts.clock ?? defaultClock;
    this.onError = opts.onError;
    this.origin = this.clock();
    this.cur = 0;
  }

  /** Current time on the wheel's clock, in ms. */
  now(): number {
    return this.clock();
  }

  /** Number of scheduled (not yet fired, not cancelled) entries. */
  get size(): number {
    return this.count;
  }

  /**
   * Runs `callback(arg)` at `atMs` (absolute, on {@link now}'s clock; a time in the past runs on the next tick).
   * Passing `arg` instead of capturing it in a closure saves an allocation per entry.
   */
  schedule<T>(atMs: number, callback: TimerCallback<T>, arg?: T): TimerHandle {
    if (this.closed) throw new Lwm2mError('CLOSED', 'timer wheel is closed');
    if (typeof callback !== 'function') throw new Lwm2mError('INVALID_ARGUMENT', 'timer callback must be a function');
    if (!Number.isFinite(atMs)) throw new Lwm2mError('INVALID_ARGUMENT', `timer time must be a finite number (got ${atMs})`);
    // An empty wheel may have slept for long: bring the cursor to now so the entry lands in the right level.
    if (this.count === 0 && !this.running) this.cur = Math.max(this.cur, this.tickNow());
    let tick = Math.ceil((atMs - this.origin) / this.resolutionMs);
    if (tick <= this.cur) tick = this.cur + 1;
    const e = new Entry(tick, callback, arg);
    this.insert(e);
    this.count++;
    if (!this.running) this.armAt(e.tick);
    return e;
  }

  /** Runs `callback(arg)` in `delayMs` ms. */
  scheduleIn<T>(delayMs: number, callback: TimerCallback<T>, arg?: T): TimerHandle {
    return this.schedule(this.clock() + delayMs, callback, arg);
  }

  /** Cancels an entry. Returns false when it already fired or was cancelled. O(1). */
  cancel(handle: TimerHandle | null | undefined): boolean {
    if (!(handle instanceof Entry) || handle.bucket === null) return false;
    this.unlink(handle);
    handle.cb = null;
    handle.arg = undefined;
    this.count--;
    // The armed timer may now wake for nothing; it re-arms itself then. Not worth a clearTimeout per cancel.
    if (this.count === 0) this.disarm();
    return true;
  }

  /** True while the entry is scheduled. */
  isScheduled(handle: TimerHandle | null | undefined): boolean {
    return handle instanceof Entry && handle.bucket !== null;
  }

  /** Cancels everything and releases the underlying timer. Later `schedule` calls throw. */
  close(): void {
    this.closed = true;
    this.disarm();
    for (const b of this.near) this.clearBucket(b);
    for (const b of this.far.values()) this.clearBucket(b);
    this.far.clear();
    this.count = 0;
    this.nearCount = 0;
  }

  private clearBucket(b: Bucket): void {
    let e = b.head;
    while (e) {
      const n = e.next;
      e.bucket = null;
      e.prev = e.next = null;
      e.cb = null;
      e.arg = undefined;
      e = n;
    }
    b.head = b.tail = null;
    b.count = 0;
  }

  private tickNow(): number {
    return Math.floor((this.clock() - this.origin) / this.resolutionMs);
  }

  private insert(e: Entry): void {
    const tick = e.tick;
    const epoch = Math.floor(tick / this.slotCount);
    // Near slots hold exactly the ticks of the epoch that contains the next tick to process (cur + 1).
    if (epoch === Math.floor((this.cur + 1) / this.slotCount)) {
      this.append(this.near[tick & this.mask], e);
      this.nearCount++;
    } else {
      let b = this.far.get(epoch);
      if (!b) {
        b = new Bucket(false);
        this.far.set(epoch, b);
      }
      this.append(b, e);
    }
  }

  private append(b: Bucket, e: Entry): void {
    e.bucket = b;
    e.next = null;
    e.prev = b.tail;
    if (b.tail) b.tail.next = e;
    else b.head = e;
    b.tail = e;
    b.count++;
  }

  private unlink(e: Entry): void {
    const b = e.bucket!;
    if (e.prev) e.prev.next = e.next;
    else b.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else b.tail = e.prev;
    e.prev = e.next = null;
    e.bucket = null;
    b.count--;
    if (b.near) this.nearCount--;
    else if (b.count === 0) this.far.delete(Math.floor(e.tick / this.slotCount));
  }

  /** Moves a far epoch's entries into the near slots (called when the wheel enters that epoch). */
  private cascade(epoch: number): void {
    const b = this.far.get(epoch);
    if (!b) return;
    this.far.delete(epoch);
    let e = b.head;
    while (e) {
      const n = e.next;
      e.prev = e.next = null;
      this.append(this.near[e.tick & this.mask], e);
      this.nearCount++;
      e = n;
    }
  }

  /** Next tick that has work: the first non-empty near slot, else the start of the earliest far epoch. */
  private nextTick(): number {
    if (this.nearCount > 0) {
      const end = (Math.floor((this.cur + 1) / this.slotCount) + 1) * this.slotCount;
      for (let t = this.cur + 1; t < end; t++) if (this.near[t & this.mask].head !== null) return t;
    }
    let min = Infinity;
    for (const epoch of this.far.keys()) if (epoch < min) min = epoch;
    return min === Infinity ? Infinity : Math.max(min * this.slotCount, this.cur + 1);
  }

  /** Arms the underlying timer for the next tick with work (after a wake-up). */
  private arm(): void {
    if (this.running || this.closed) return;
    const tick = this.nextTick();
    if (tick === Infinity) this.disarm();
    else this.armAt(tick);
  }

  private armAt(tick: number): void {
    if (this.timer !== null) {
      if (tick >= this.timerTick) return;
      clearTimeout(this.timer);
    }
    const delay = Math.max(0, this.origin + tick * this.resolutionMs - this.clock());
    // setTimeout's maximum delay is 2^31-1 ms; a longer sleep simply wakes up early and re-arms.
    this.timer = setTimeout(this.onTimer, Math.min(delay, 0x7fffffff));
    this.timer.unref();
    this.timerTick = tick;
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerTick = Infinity;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerTick = Infinity;
    this.advance();
  };

  /**
   * Moves the processed-tick cursor. When the epoch of the next tick changes, that epoch's far bucket moves into the near
   * slots before any callback of the new epoch runs (so same-tick callbacks keep their scheduling order).
   */
  private setCur(t: number): void {
    const before = Math.floor((this.cur + 1) / this.slotCount);
    this.cur = t;
    const after = Math.floor((t + 1) / this.slotCount);
    if (after !== before) this.cascade(after);
  }

  /** Runs every callback due up to now. Called by the underlying timer; exposed for tests with a manual clock. */
  advance(): void {
    if (this.closed || this.running) return;
    this.running = true;
    try {
      const target = this.tickNow();
      while (this.cur < target && this.count > 0) {
        let t = this.cur + 1;
        if (this.nearCount === 0) {
          // Nothing near: jump to the earliest far epoch (no far bucket lies before it), skipping empty ticks.
          const next = this.nextTick();
          if (next > target) break;
          if (next > t) this.setCur(next - 1);
          t = next;
        }
        this.setCur(t);
        const slot = this.near[t & this.mask];
        let e: Entry | null;
        // Entries of tick t sit at the head of their slot; a later epoch's entries of the same slot follow them.
        while ((e = slot.head) !== null && e.tick === t) {
          this.unlink(e);
          this.count--;
          const cb = e.cb!;
          const arg = e.arg;
          e.cb = null;
          e.arg = undefined;
          try {
            cb(arg);
          } catch (err) {
            this.report(err);
          }
          if (this.closed) return;
        }
      }
      if (this.cur < target) this.setCur(target);
    } finally {
      this.running = false;
    }
    if (!this.closed) this.arm();
  }

  private report(err: unknown): void {
    if (this.onError) {
      try {
        this.onError(err);
      } catch {
        /* an error handler that throws has nowhere else to go */
      }
    } else {
      process.nextTick(() => {
        throw err;
      });
    }
  }
}
