/**
 * One scheduler for many clients: a binary min-heap of tasks keyed by due time, driven by a single Node timer (armed for
 * the earliest task only). Thousands of clients and their observations share it, so there is never a timer per device or
 * per observation, and rescheduling a task allocates nothing.
 *
 * The time source is injectable: tests build a {@link ManualScheduler} and drive it with `advance(ms)`.
 */

/** A schedulable unit of work. Reuse one per purpose (one per observation, one per client's registration timer). */
export class Task {
  /** Absolute due time (ms, the scheduler's clock), or -1 when not scheduled. */
  due = -1;
  /** Position in the heap, -1 when not queued. @internal */
  index = -1;
  constructor(public fn: () => void) {}
  get scheduled(): boolean { return this.index >= 0; }
}

/** The largest delay a Node timer accepts (2^31-1 ms); longer waits re-arm on expiry. */
const MAX_TIMER_MS = 0x7fffffff;

export class Scheduler {
  protected heap: Task[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private running = false;
  private closed = false;
  /** Errors thrown by tasks land here (default: swallowed into `lastError`, never crash the process). */
  onError: (err: unknown) => void = (err) => { this.lastError = err; };
  lastError: unknown;

  constructor(private readonly clock: () => number = Date.now) {}

  now(): number { return this.clock(); }

  /** Due time of the earliest task, undefined when none is queued. */
  peekDue(): number | undefined { return this.heap[0]?.due; }

  /** Number of queued tasks. */
  get size(): number { return this.heap.length; }

  /** Schedules (or reschedules) `task` at absolute time `at` (ms). */
  scheduleAt(task: Task, at: number): void {
    if (this.closed) return;
    if (!Number.isFinite(at)) { this.cancel(task); return; }
    if (task.index >= 0) {
      const old = task.due;
      task.due = at;
      if (at < old) this.up(task.index); else this.down(task.index);
    } else {
      task.due = at;
      task.index = this.heap.length;
      this.heap.push(task);
      this.up(task.index);
    }
    this.arm();
  }

  /** Schedules `task` `delayMs` from now. */
  schedule(task: Task, delayMs: number): void { this.scheduleAt(task, this.clock() + Math.max(0, delayMs)); }

  /** Schedules `task` at `at` unless it is already due earlier. */
  scheduleNoLater(task: Task, at: number): void {
    if (task.index >= 0 && task.due <= at) return;
    this.scheduleAt(task, at);
  }

  cancel(task: Task): void {
    const i = task.index;
    if (i < 0) return;
    const last = this.heap.pop()!;
    if (last !== task) {
      this.heap[i] = last;
      last.index = i;
      this.up(i);
      this.down(last.index);
    }
    task.index = -1;
    task.due = -1;
    // the timer may now fire early: harmless, it re-arms for the next due task.
  }

  /** Runs every task due at or before now. Returns how many ran. */
  runDue(): number {
    if (this.running) return 0;
    this.running = true;
    let n = 0;
    try {
      for (;;) {
        const top = this.heap[0];
        if (top === undefined || top.due > this.clock()) break;
        this.cancel(top);
        n++;
        try { top.fn(); } catch (err) { this.onError(err); }
      }
    } finally {
      this.running = false;
    }
    this.arm();
    return n;
  }

  /** Cancels every task and the timer; later schedule calls are ignored. */
  close(): void {
    this.closed = true;
    for (const t of this.heap) { t.index = -1; t.due = -1; }
    this.heap = [];
    this.disarm();
  }

  protected arm(): void {
    if (this.running) return;
    const top = this.heap[0];
    if (top === undefined) { this.disarm(); return; }
    if (this.timer !== undefined && this.armedFor <= top.due) return;
    this.disarm();
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, top.due - this.clock()));
    this.armedFor = top.due;
    this.timer = setTimeout(() => { this.timer = undefined; this.armedFor = Infinity; this.runDue(); }, delay);
    // The scheduler never keeps the process alive by itself: sockets do that while clients run.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].due <= t.due) break;
      h[i] = h[p]; h[i].index = i;
      i = p;
    }
    h[i] = t; t.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r].due < h[l].due ? r : l;
      if (h[c].due >= t.due) break;
      h[i] = h[c]; h[i].index = i;
      i = c;
    }
    h[i] = t; t.index = i;
  }
}

/** A scheduler on a clock that only moves when told (tests). */
export class ManualScheduler extends Scheduler {
  private t: number;
  constructor(start = 1_000_000) {
    let self: ManualScheduler | undefined;
    super(() => self!.t);
    self = this;
    this.t = start;
  }
  /** Moves the clock forward, running due tasks in order (each at its own due time). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.peekDue();
      if (next === undefined || next > end) break;
      if (next > this.t) this.t = next;
      this.runDue();
    }
    this.t = end;
    this.runDue();
  }
  set(now: number): void { this.advance(Math.max(0, now - this.t)); }
  private immediate: NodeJS.Immediate | undefined;
  /** No real timer: time moves by advance(). Tasks already due run on the next turn of the event loop. */
  protected override arm(): void {
    const due = this.peekDue();
    if (due === undefined || due > this.now() || this.immediate !== undefined) return;
    this.immediate = setImmediate(() => { this.immediate = undefined; this.runDue(); });
  }
}

let shared: Scheduler | undefined;
/** The process-wide default scheduler (real clock). */
export function defaultScheduler(): Scheduler {
  if (shared === undefined) shared = new Scheduler();
  return shared;
}
