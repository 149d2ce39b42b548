/**
 * A min-heap of (deadline, item) pairs driven by ONE unref'd timer, for things that happen to many entries at different
 * times (registration expiry, queue-mode sleep, queued request deadlines). Entries cost two array slots; there is no
 * cancel: consumers check on delivery whether the item is still due (lazy deletion) and may push it again.
 *
 * Resolution: the timer fires at the earliest deadline (millisecond setTimeout); items due at the same moment are
 * delivered together in deadline order.
 */
export class DeadlineQueue<T> {
  private times: number[] = [];
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  /** `onDue(item, now)` is called for every item whose deadline has passed. */
  constructor(private readonly onDue: (item: T, now: number) => void, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.times.length;
  }

  push(at: number, item: T): void {
    if (this.closed) return;
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(at);
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (times[p] <= at) break;
      times[i] = times[p];
      items[i] = items[p];
      i = p;
    }
    times[i] = at;
    items[i] = item;
    if (at < this.timerAt) this.arm();
  }

  /** Earliest deadline, or undefined when empty. */
  peek(): number | undefined {
    return this.times.length ? this.times[0] : undefined;
  }

  /** Drops every entry for which `keep` returns false (used to shed stale entries). */
  filter(keep: (item: T, at: number) => boolean): void {
    const entries: Array<[number, T]> = [];
    for (let i = 0; i < this.times.length; i++) if (keep(this.items[i], this.times[i])) entries.push([this.times[i], this.items[i]]);
    this.times = [];
    this.items = [];
    entries.sort((a, b) => a[0] - b[0]);
    for (const [t, it] of entries) {
      this.times.push(t);
      this.items.push(it);
    }
    this.arm();
  }

  clear(): void {
    this.times = [];
    this.items = [];
    this.disarm();
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  private pop(): T {
    const times = this.times;
    const items = this.items;
    const top = items[0];
    const lastT = times.pop()!;
    const lastI = items.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r] < times[l] ? r : l;
        if (times[c] >= lastT) break;
        times[i] = times[c];
        items[i] = items[c];
        i = c;
      }
      times[i] = lastT;
      items[i] = lastI;
    }
    return top;
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(): void {
    this.disarm();
    if (this.closed || this.times.length === 0) return;
    const at = this.times[0];
    // setTimeout takes at most 2^31-1 ms; a far deadline re-arms when the timer fires.
    const delay = Math.min(Math.max(0, at - this.now()), 0x7fffffff);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    // Deliver everything due; items pushed by onDue for "now" are delivered in this same round.
    let guard = this.times.length + 1024;
    while (this.times.length > 0 && this.times[0] <= now && guard-- > 0 && !this.closed) {
      const item = this.pop();
      try {
        this.onDue(item, now);
      } catch {
        // a consumer error must not stop the queue
      }
    }
    if (!this.closed) this.arm();
  }
}
