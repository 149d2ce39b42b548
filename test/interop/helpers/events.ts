/**
 * Event helpers for interop tests: a log of the events of one or more emitters (so an event fired before the test
 * starts waiting is not missed, and "no such event" can be asserted), and a promise timeout.
 */
import { EventEmitter } from 'events';

type Listener = (...args: unknown[]) => void;

export class EventLog {
  private readonly seen = new Map<string, unknown[][]>();
  private readonly waiters = new Map<string, Array<(args: unknown[]) => void>>();
  private readonly attached: Array<{ emitter: EventEmitter; event: string; listener: Listener }> = [];

  /** Starts logging `events` of `emitter`. */
  add(emitter: EventEmitter, events: readonly string[]): this {
    for (const event of events) {
      const listener: Listener = (...args) => {
        let list = this.seen.get(event);
        if (list === undefined) this.seen.set(event, (list = []));
        list.push(args);
        const ws = this.waiters.get(event);
        if (ws !== undefined) {
          this.waiters.delete(event);
          for (const w of ws) w(args);
        }
      };
      emitter.on(event, listener);
      this.attached.push({ emitter, event, listener });
    }
    return this;
  }

  /** Forgets what was logged so far. */
  clear(): void {
    this.seen.clear();
  }

  count(event: string): number {
    return this.seen.get(event)?.length ?? 0;
  }

  /** The arguments of the first `event` logged since the last clear(), waiting for it up to `ms`. */
  wait<T extends unknown[]>(event: string, ms: number): Promise<T> {
    const first = this.seen.get(event)?.[0];
    if (first !== undefined) return Promise.resolve(first as T);
    return withTimeout(new Promise<T>((resolve) => {
      let list = this.waiters.get(event);
      if (list === undefined) this.waiters.set(event, (list = []));
      list.push((args) => resolve(args as T));
    }), ms, `no '${event}' event within ${ms} ms`);
  }

  /** Detaches every listener. */
  stop(): void {
    for (const { emitter, event, listener } of this.attached) emitter.off(event, listener);
    this.attached.length = 0;
    this.waiters.clear();
  }
}

export function collect(emitter: EventEmitter, events: readonly string[]): EventLog {
  return new EventLog().add(emitter, events);
}

/** `p`, or a rejection with `message` after `ms` (the timer never outlives the race). */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
