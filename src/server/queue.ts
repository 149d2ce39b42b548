import { CancelledError, TimeoutError } from '../errors';
import { DeadlineQueue } from './deadline-queue';
import { QueueFullError, QueueTimeoutError } from './errors';

/**
 * Queue mode (OMA TS Transport 1.1 "Queue Mode Operation"; Core 1.0.2 "Queue Mode Operation"): a device that
 * registered with queue mode is reachable only for a while after it sent something (Register, Update, a notification,
 * a Send, an answer): the server considers it awake for `awakeMs` (CoAP MAX_TRANSMIT_WAIT, 93 s, by default) after its
 * last message, then sleeping. Requests to a sleeping device wait in a bounded per-device queue and are sent one after
 * the other ("in a serial fashion") when it next shows up; a request that fails for lack of an answer goes back to the
 * head of the queue ("If the LwM2M Server is not successful in sending a request, then it stops emptying the queue and
 * keeps the request for the next time the LwM2M Client is online"). Each queued request has a deadline.
 *
 * State exists only for queue-mode devices; the sleep transitions and the deadlines run on two shared timers.
 */

export interface QueueOptions {
  /** How long a device stays awake after its last message (default 93,000 ms: CoAP MAX_TRANSMIT_WAIT). */
  awakeMs: number;
  /** Max requests waiting per device (default 20). */
  maxQueued: number;
  /** Default deadline of a queued request (default 3,600,000 ms). */
  deadlineMs: number;
  onSleeping(endpoint: string): void;
  onAwake(endpoint: string): void;
}

interface Pending<T = unknown> {
  endpoint: string;
  what: string;
  deadline: number;
  timeoutMs: number;
  run: () => Promise<T>;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
  done: boolean;
}

interface DeviceState {
  awakeUntil: number;
  sleeping: boolean;
  sleepScheduled: boolean;
  flushing: boolean;
  queue: Pending[];
}

export class RequestQueue {
  private readonly devices = new Map<string, DeviceState>();
  private readonly sleepTimer: DeadlineQueue<string>;
  private readonly deadlineTimer: DeadlineQueue<Pending>;

  constructor(private readonly opts: QueueOptions, private readonly now: () => number = Date.now) {
    this.sleepTimer = new DeadlineQueue<string>((ep, t) => this.sleepDue(ep, t), now);
    this.deadlineTimer = new DeadlineQueue<Pending>((p) => this.deadlineDue(p), now);
  }

  /** Number of queue-mode devices tracked and requests waiting (for stats and tests). */
  stats(): { devices: number; queued: number; timers: number } {
    let queued = 0;
    for (const d of this.devices.values()) queued += d.queue.length;
    return { devices: this.devices.size, queued, timers: this.sleepTimer.size + this.deadlineTimer.size };
  }

  isAwake(endpoint: string): boolean {
    const d = this.devices.get(endpoint);
    return d !== undefined && !d.sleeping && d.awakeUntil > this.now();
  }

  /** Number of requests waiting for a device. */
  queued(endpoint: string): number {
    return this.devices.get(endpoint)?.queue.length ?? 0;
  }

  /**
   * The device sent something: it is awake for `awakeMs`. Sends what is queued (after the current event-loop turn, so
   * the answer to its Register/Update leaves first).
   */
  touch(endpoint: string): void {
    const now = this.now();
    let d = this.devices.get(endpoint);
    if (!d) {
      d = { awakeUntil: 0, sleeping: true, sleepScheduled: false, flushing: false, queue: [] };
      this.devices.set(endpoint, d);
    }
    d.awakeUntil = now + this.opts.awakeMs;
    if (!d.sleepScheduled) {
      d.sleepScheduled = true;
      this.sleepTimer.push(d.awakeUntil, endpoint);
    }
    if (d.sleeping) {
      d.sleeping = false;
      this.opts.onAwake(endpoint);
    }
    if (d.queue.length > 0 && !d.flushing) {
      d.flushing = true;
      setImmediate(() => void this.flush(endpoint));
    }
  }

  /** A restored queue-mode device whose state is unknown: sleeping until it talks. */
  track(endpoint: string): void {
    if (!this.devices.has(endpoint)) {
      this.devices.set(endpoint, { awakeUntil: 0, sleeping: true, sleepScheduled: false, flushing: false, queue: [] });
    }
  }

  /**
   * Runs `run` now when the device is awake and nothing waits before it; otherwise queues it until the device wakes up.
   * A request that gets no answer (TimeoutError) while the device is in queue mode goes back to the queue: the device
   * fell asleep.
   */
  submit<T>(endpoint: string, what: string, run: () => Promise<T>, deadlineMs?: number): Promise<T> {
    const d = this.devices.get(endpoint) ?? this.newState(endpoint);
    const timeoutMs = deadlineMs ?? this.opts.deadlineMs;
    return new Promise<T>((resolve, reject) => {
      const p: Pending<T> = { endpoint, what, deadline: this.now() + timeoutMs, timeoutMs, run, resolve, reject, done: false };
      const direct = !d.sleeping && d.awakeUntil > this.now() && d.queue.length === 0 && !d.flushing;
      if (direct) {
        void this.runOne(d, p as Pending);
        return;
      }
      if (d.queue.length >= this.opts.maxQueued) {
        reject(new QueueFullError(what, this.opts.maxQueued));
        return;
      }
      d.queue.push(p as Pending);
      this.deadlineTimer.push(p.deadline, p as Pending);
    });
  }

  /** Rejects everything queued for a device and forgets it (deregistered, expired, no longer in queue mode). */
  cancel(endpoint: string, reason: string): void {
    const d = this.devices.get(endpoint);
    if (!d) return;
    this.devices.delete(endpoint);
    for (const p of d.queue) this.finish(p, undefined, new CancelledError(`${p.what} (${reason})`));
    d.queue.length = 0;
  }

  close(): void {
    for (const ep of [...this.devices.keys()]) this.cancel(ep, 'server closed');
    this.sleepTimer.close();
    this.deadlineTimer.close();
  }

  private newState(endpoint: string): DeviceState {
    const d: DeviceState = { awakeUntil: 0, sleeping: true, sleepScheduled: false, flushing: false, queue: [] };
    this.devices.set(endpoint, d);
    return d;
  }

  private finish(p: Pending, value: unknown, err?: Error): void {
    if (p.done) return;
    p.done = true;
    if (err) p.reject(err);
    else p.resolve(value);
  }

  /** Runs one request; returns true when it went back to the queue because the device did not answer. */
  private async runOne(d: DeviceState, p: Pending): Promise<boolean> {
    try {
      const v = await p.run();
      this.finish(p, v);
      return false;
    } catch (err) {
      if (err instanceof TimeoutError && !p.done && this.devices.get(p.endpoint) === d && p.deadline > this.now()) {
        // No answer: the device went to sleep. Keep the request for the next time it is online.
        d.queue.unshift(p);
        this.deadlineTimer.push(p.deadline, p);
        this.markSleeping(p.endpoint, d);
        return true;
      }
      this.finish(p, undefined, err as Error);
      return false;
    }
  }

  private async flush(endpoint: string): Promise<void> {
    const d = this.devices.get(endpoint);
    if (!d) return;
    d.flushing = true;
    try {
      while (d.queue.length > 0 && !d.sleeping && this.devices.get(endpoint) === d) {
        const p = d.queue.shift()!;
        if (p.done) continue;
        const requeued = await this.runOne(d, p);
        if (requeued) break;
      }
    } finally {
      d.flushing = false;
    }
  }

  private markSleeping(endpoint: string, d: DeviceState): void {
    if (d.sleeping) return;
    d.sleeping = true;
    d.awakeUntil = 0;
    this.opts.onSleeping(endpoint);
  }

  private sleepDue(endpoint: string, now: number): void {
    const d = this.devices.get(endpoint);
    if (!d) return;
    d.sleepScheduled = false;
    if (d.awakeUntil > now) {
      d.sleepScheduled = true;
      this.sleepTimer.push(d.awakeUntil, endpoint);
      return;
    }
    if (d.flushing) {
      // an exchange is in progress: its answer (or its timeout) decides
      d.sleepScheduled = true;
      this.sleepTimer.push(now + this.opts.awakeMs, endpoint);
      return;
    }
    this.markSleeping(endpoint, d);
  }

  private deadlineDue(p: Pending): void {
    if (p.done) return;
    const d = this.devices.get(p.endpoint);
    if (d) {
      const i = d.queue.indexOf(p);
      if (i >= 0) d.queue.splice(i, 1);
      else return; // in flight: the transport's own timeout decides
    }
    this.finish(p, undefined, new QueueTimeoutError(p.what, p.timeoutMs));
  }
}
