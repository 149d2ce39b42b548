import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TimerWheel } from '../../src/util/timer-wheel';
import { Lwm2mError } from '../../src/errors';

/** A wheel on a manual clock: `advanceTo` moves time and runs what is due, deterministically. */
function manual(opts: { resolutionMs?: number; slots?: number } = {}) {
  let now = 1_000_000;
  const wheel = new TimerWheel({ ...opts, clock: () => now });
  return {
    wheel,
    get now() {
      return now;
    },
    advanceTo(t: number) {
      now = t;
      wheel.advance();
    },
  };
}

describe('TimerWheel (manual clock)', () => {
  test('fires in time order, never early, same-tick entries in scheduling order', () => {
    const m = manual({ resolutionMs: 10, slots: 16 });
    const fired: string[] = [];
    const t0 = m.now;
    m.wheel.schedule(t0 + 55, (x) => fired.push(x), 'c');
    m.wheel.schedule(t0 + 21, (x) => fired.push(x), 'a');
    m.wheel.schedule(t0 + 25, (x) => fired.push(x), 'b1');
    m.wheel.schedule(t0 + 29, (x) => fired.push(x), 'b2');
    m.wheel.schedule(t0 + 5000, (x) => fired.push(x), 'far');
    assert.equal(m.wheel.size, 5);
    m.advanceTo(t0 + 20);
    assert.deepEqual(fired, []);
    m.advanceTo(t0 + 30);
    assert.deepEqual(fired, ['a', 'b1', 'b2']);
    m.advanceTo(t0 + 54);
    assert.deepEqual(fired, ['a', 'b1', 'b2']);
    m.advanceTo(t0 + 60);
    assert.deepEqual(fired, ['a', 'b1', 'b2', 'c']);
    m.advanceTo(t0 + 4999);
    assert.equal(fired.length, 4);
    assert.equal(m.wheel.size, 1);
    m.advanceTo(t0 + 5010);
    assert.deepEqual(fired, ['a', 'b1', 'b2', 'c', 'far']);
    assert.equal(m.wheel.size, 0);
    m.wheel.close();
  });

  test('entries beyond one revolution (far level) fire at their own time, in order', () => {
    const m = manual({ resolutionMs: 1, slots: 8 }); // one revolution = 8 ms
    const t0 = m.now;
    const out: number[] = [];
    const delays = [3, 9, 17, 16, 64, 65, 8, 7, 1000, 33];
    for (const d of delays) m.wheel.schedule(t0 + d, (v: number) => out.push(v), d);
    for (let t = t0; t <= t0 + 1003; t += 3) {
      m.advanceTo(t);
      for (const v of out) assert.ok(v <= t - t0, `fired ${v} at ${t - t0}: early`);
    }
    assert.deepEqual(out, [...delays].sort((a, b) => a - b));
    assert.equal(m.wheel.size, 0);
    m.wheel.close();
  });

  test('a large jump of the clock runs everything due, in order', () => {
    const m = manual({ resolutionMs: 10, slots: 64 });
    const t0 = m.now;
    const out: number[] = [];
    for (let i = 0; i < 500; i++) {
      const d = ((i * 7919) % 100_000) + 1;
      m.wheel.schedule(t0 + d, (v: number) => out.push(v), d);
    }
    m.advanceTo(t0 + 50_000);
    assert.ok(out.every((v) => v <= 50_000));
    assert.ok(out.every((v, i) => i === 0 || out[i - 1] <= v), 'ordered');
    const firstBatch = out.length;
    m.advanceTo(t0 + 200_000);
    assert.equal(out.length, 500);
    assert.ok(firstBatch > 0 && firstBatch < 500);
    assert.ok(out.every((v, i) => i === 0 || out[i - 1] <= v), 'ordered');
    m.wheel.close();
  });

  test('an empty wheel left idle for long schedules relative to the present', () => {
    const m = manual({ resolutionMs: 10, slots: 16 });
    const out: string[] = [];
    m.wheel.schedule(m.now + 10, () => out.push('first'));
    m.advanceTo(m.now + 10);
    m.advanceTo(m.now + 3_600_000); // nothing scheduled: the wheel does not tick
    const t = m.now;
    m.wheel.schedule(t + 50, () => out.push('late'));
    m.advanceTo(t + 49);
    assert.deepEqual(out, ['first']);
    m.advanceTo(t + 60);
    assert.deepEqual(out, ['first', 'late']);
    m.wheel.close();
  });

  test('cancel is effective and idempotent, near and far', () => {
    const m = manual({ resolutionMs: 10, slots: 16 });
    const t0 = m.now;
    let count = 0;
    const inc = () => count++;
    const near = m.wheel.schedule(t0 + 30, inc);
    const far = m.wheel.schedule(t0 + 10_000, inc);
    const kept = m.wheel.schedule(t0 + 30, inc);
    assert.equal(m.wheel.isScheduled(near), true);
    assert.equal(m.wheel.cancel(near), true);
    assert.equal(m.wheel.cancel(near), false);
    assert.equal(m.wheel.cancel(far), true);
    assert.equal(m.wheel.isScheduled(far), false);
    assert.equal(m.wheel.size, 1);
    m.advanceTo(t0 + 20_000);
    assert.equal(count, 1);
    assert.equal(m.wheel.cancel(kept), false, 'already fired');
    assert.equal(m.wheel.cancel(null), false);
    m.wheel.close();
  });

  test('callbacks may schedule and cancel; a past time runs on the next tick', () => {
    const m = manual({ resolutionMs: 10, slots: 16 });
    const t0 = m.now;
    const out: string[] = [];
    let victim = m.wheel.schedule(t0 + 10, () => out.push('victim'));
    m.wheel.schedule(t0 + 10, () => {
      out.push('first');
      m.wheel.cancel(victim);
      m.wheel.schedule(m.now - 100, () => out.push('past'));
    });
    victim = m.wheel.schedule(t0 + 10, () => out.push('victim2'));
    m.advanceTo(t0 + 10);
    assert.deepEqual(out, ['victim', 'first']);
    m.advanceTo(t0 + 20);
    assert.deepEqual(out, ['victim', 'first', 'past']);
    m.wheel.close();
  });

  test('a throwing callback goes to onError and does not stop the others', () => {
    let now = 0;
    const errors: unknown[] = [];
    const wheel = new TimerWheel({ clock: () => now, onError: (e) => errors.push(e) });
    const out: number[] = [];
    wheel.schedule(5, () => {
      throw new Error('boom');
    });
    wheel.schedule(5, () => out.push(1));
    now = 100;
    wheel.advance();
    assert.deepEqual(out, [1]);
    assert.equal(errors.length, 1);
    wheel.close();
  });

  test('many entries: 200k scheduled, half cancelled, the rest fire exactly once', () => {
    const m = manual({ resolutionMs: 10 });
    const t0 = m.now;
    const N = 200_000;
    const hits = new Uint8Array(N);
    const cb = (i: number) => {
      hits[i]++;
    };
    const handles = new Array(N);
    for (let i = 0; i < N; i++) handles[i] = m.wheel.schedule(t0 + ((i * 2654435761) % 3_600_000), cb, i);
    for (let i = 0; i < N; i += 2) m.wheel.cancel(handles[i]);
    assert.equal(m.wheel.size, N / 2);
    for (let t = t0; t <= t0 + 3_600_000; t += 60_000) m.advanceTo(t);
    m.advanceTo(t0 + 3_600_010);
    assert.equal(m.wheel.size, 0);
    for (let i = 0; i < N; i++) assert.equal(hits[i], i % 2 === 0 ? 0 : 1, `entry ${i}`);
    m.wheel.close();
  });

  test('bad arguments are typed errors; schedule after close throws', () => {
    const wheel = new TimerWheel();
    assert.throws(() => wheel.schedule(NaN, () => {}), Lwm2mError);
    assert.throws(() => wheel.schedule(Infinity, () => {}), Lwm2mError);
    assert.throws(() => wheel.schedule(0, 'x' as any), Lwm2mError);
    assert.throws(() => new TimerWheel({ resolutionMs: 0 }), Lwm2mError);
    wheel.close();
    assert.throws(() => wheel.schedule(wheel.now(), () => {}), (e: any) => e instanceof Lwm2mError && e.code === 'CLOSED');
  });
});

/** The wheel's timer is unref'd: while a test awaits it, something else must keep the event loop alive. */
async function keepAlive<T>(p: Promise<T>): Promise<T> {
  const guard = setInterval(() => {}, 1000);
  try {
    return await p;
  } finally {
    clearInterval(guard);
  }
}

describe('TimerWheel (real clock)', () => {
  test('fires with the real timer, never early, and does not keep the process alive', async () => {
    const wheel = new TimerWheel({ resolutionMs: 5 });
    const start = wheel.now();
    const results = await keepAlive(Promise.all(
      [40, 10, 25].map(
        (d) =>
          new Promise<[number, number]>((resolve) => {
            wheel.schedule(start + d, () => resolve([d, wheel.now() - start]));
          }),
      ),
    ));
    for (const [d, elapsed] of results) assert.ok(elapsed >= d, `fired at ${elapsed} for ${d}`);
    // An entry left behind must not hold the process open (the test runner would hang otherwise): unref'd timer.
    wheel.scheduleIn(3_600_000, () => {});
    assert.equal(wheel.size, 1);
  });

  test('order of real-time firing follows due times', async () => {
    const wheel = new TimerWheel({ resolutionMs: 1 });
    const order: number[] = [];
    await keepAlive(
      new Promise<void>((resolve) => {
        for (const d of [30, 5, 20, 12]) {
          wheel.scheduleIn(d, () => {
            order.push(d);
            if (order.length === 4) resolve();
          });
        }
      }),
    );
    assert.deepEqual(order, [5, 12, 20, 30]);
    wheel.close();
  });
});
