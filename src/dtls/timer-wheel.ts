/**
 * A hashed timer wheel: one interval per wheel, however many timers (RFC 6347 handshake retransmissions, idle
 * expiry). Timers are intrusive list nodes, so scheduling and cancelling allocate nothing and cost O(1). The interval
 * runs only while timers are pending and is unref'd: a wheel never keeps the process alive by itself.
 *
 * Precision is one tick: a timer fires at the first tick at or after its deadline.
 */

export interface TimerTarget {
  onTimer(now: number): void;
}

const IDLE = 0;
const LINKED = 1;
const DUE = 2;

export class TimerNode {
  deadline = 0;
  /** @internal */ next: TimerNode | null = null;
  /** @internal */ prev: TimerNode | null = null;
  /** @internal */ slot = -1;
  /** @internal */ state = IDLE;
  constructor(readonly target: TimerTarget) {}
  get pending(): boolean { return this.state !== IDLE; }
}

export interface TimerWheelOptions {
  /** Tick length in ms (default 10). */
  tickMs?: number;
  /** Number of slots (default 1024); timers further away than tickMs * slots wait several turns. */
  slots?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** When false, the wheel never starts its own interval: call {@link TimerWheel.advance} (tests). */
  autoTick?: boolean;
}

export class TimerWheel {
  readonly tickMs: number;
  private readonly heads: (TimerNode | null)[];
  private readonly now: () => number;
  private readonly autoTick: boolean;
  private count = 0;
  private lastTick: number;
  private interval: NodeJS.Timeout | null = null;
  private readonly due: TimerNode[] = [];

  constructor(opts: TimerWheelOptions = {}) {
    this.tickMs = Math.max(1, Math.floor(opts.tickMs ?? 10));
    this.heads = new Array<TimerNode | null>(Math.max(1, Math.floor(opts.slots ?? 1024))).fill(null);
    this.now = opts.now ?? Date.now;
    this.autoTick = opts.autoTick ?? true;
    this.lastTick = Math.floor(this.now() / this.tickMs);
  }

  /** Number of pending timers. */
  get size(): number { return this.count; }

  /** (Re)schedules `node` to fire `delayMs` from now. */
  schedule(node: TimerNode, delayMs: number): void {
    this.scheduleAt(node, this.now() + Math.max(0, delayMs));
  }

  scheduleAt(node: TimerNode, deadline: number): void {
    this.cancel(node);
    // an empty wheel has nothing to catch up on: restart its clock
    if (this.count === 0) this.lastTick = Math.floor(this.now() / this.tickMs);
    node.deadline = deadline;
    // never into a tick already processed: at the earliest the next one
    const tick = Math.max(Math.ceil(deadline / this.tickMs), this.lastTick + 1);
    const slot = tick % this.heads.length;
    node.slot = slot;
    node.state = LINKED;
    node.prev = null;
    node.next = this.heads[slot];
    if (node.next) node.next.prev = node;
    this.heads[slot] = node;
    if (++this.count === 1 && this.autoTick && this.interval === null) {
      this.interval = setInterval(() => this.advance(), this.tickMs);
      this.interval.unref();
    }
  }

  cancel(node: TimerNode): void {
    if (node.state === LINKED) {
      if (node.prev) node.prev.next = node.next;
      else this.heads[node.slot] = node.next;
      if (node.next) node.next.prev = node.prev;
      node.next = node.prev = null;
      node.slot = -1;
      if (--this.count === 0) this.stop();
    }
    node.state = IDLE;
  }

  /** Fires every timer whose deadline has passed. Called by the interval; tests may call it directly. */
  advance(): void {
    const now = this.now();
    const nowTick = Math.floor(now / this.tickMs);
    const n = this.heads.length;
    const from = this.lastTick + 1;
    const to = nowTick - from >= n ? from + n - 1 : nowTick; // after a long pause, one full turn covers every slot
    this.lastTick = nowTick;
    const due = this.due;
    for (let t = from; t <= to; t++) {
      let node = this.heads[t % n];
      while (node !== null) {
        const next = node.next;
        if (node.deadline <= now) {
          this.cancel(node);
          node.state = DUE;
          due.push(node);
        }
        node = next;
      }
    }
    for (let i = 0; i < due.length; i++) {
      const node = due[i];
      // a callback may have cancelled or rescheduled a timer that was due in this same pass
      if (node.state !== DUE) continue;
      node.state = IDLE;
      try {
        node.target.onTimer(now);
      } catch (err) {
        due.length = 0;
        throw err;
      }
    }
    due.length = 0;
  }

  /** Cancels every timer and stops the interval. */
  clear(): void {
    for (let s = 0; s < this.heads.length; s++) {
      let node = this.heads[s];
      while (node !== null) {
        const next = node.next;
        node.next = node.prev = null;
        node.slot = -1;
        node.state = IDLE;
        node = next;
      }
      this.heads[s] = null;
    }
    for (const node of this.due) node.state = IDLE;
    this.count = 0;
    this.stop();
  }

  private stop(): void {
    if (this.interval !== null) {
      clearInterval(this.interval);
      this.interval = null;
    }
  }
}
