import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerNode, TimerWheel } from '../../src/dtls/timer-wheel';

function fired(log: string[], name: string) {
  return new TimerNode({ onTimer: () => { log.push(name); } });
}

describe('timer wheel', () => {
  test('fires at the first tick at or after the deadline, in any order of scheduling, across turns', () => {
    let now = 10_000;
    const w = new TimerWheel({ tickMs: 10, slots: 8, now: () => now, autoTick: false });
    const log: string[] = [];
    const a = fired(log, 'a');
    const b = fired(log, 'b');
    const c = fired(log, 'c');
    w.schedule(a, 25);
    w.schedule(b, 5);
    w.schedule(c, 500); // several turns of an 80 ms wheel
    assert.equal(w.size, 3);
    now += 10; w.advance();
    assert.deepEqual(log, ['b']);
    now += 10; w.advance();
    assert.deepEqual(log, ['b']);
    now += 10; w.advance();
    assert.deepEqual(log, ['b', 'a']);
    for (let i = 0; i < 45; i++) { now += 10; w.advance(); }
    assert.deepEqual(log, ['b', 'a']);
    now += 20; w.advance();
    assert.deepEqual(log, ['b', 'a', 'c']);
    assert.equal(w.size, 0);
  });

  test('cancel and reschedule; a callback may cancel a timer due in the same pass', () => {
    let cancelledInPass = 0;
    for (const killerFirst of [false, true]) {
      let now = 0;
      const w = new TimerWheel({ tickMs: 10, slots: 16, now: () => now, autoTick: false });
      const log: string[] = [];
      const victim = fired(log, 'victim');
      const killer = new TimerNode({ onTimer: () => { log.push('killer'); w.cancel(victim); } });
      const moved = fired(log, 'moved');
      if (killerFirst) { w.schedule(killer, 10); w.schedule(victim, 10); } else { w.schedule(victim, 10); w.schedule(killer, 10); }
      w.schedule(moved, 10);
      w.schedule(moved, 100); // rescheduled: fires later only
      now += 10; w.advance();
      assert.ok(log.includes('killer'));
      assert.ok(!log.includes('moved'));
      // the victim fired before the killer ran, or never: never after its cancellation
      const victimAt = log.indexOf('victim');
      assert.ok(victimAt === -1 || victimAt < log.indexOf('killer'));
      if (victimAt === -1) cancelledInPass++;
      now += 100; w.advance();
      assert.ok(log.includes('moved'));
      assert.equal(log.filter((x) => x === 'victim').length, victimAt === -1 ? 0 : 1);
    }
    assert.ok(cancelledInPass >= 1, 'one of the two orders cancels a timer already collected as due');
  });

  test('after a pause longer than a turn, everything overdue fires once', () => {
    let now = 0;
    const w = new TimerWheel({ tickMs: 10, slots: 4, now: () => now, autoTick: false });
    const log: string[] = [];
    for (let i = 0; i < 10; i++) w.schedule(fired(log, String(i)), i * 7);
    now += 10_000; w.advance();
    assert.equal(log.length, 10);
    assert.equal(w.size, 0);
  });

  test('clear cancels everything; the real interval runs only while timers are pending', async () => {
    const w = new TimerWheel({ tickMs: 5 });
    const log: string[] = [];
    w.schedule(fired(log, 'x'), 10);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(log, ['x']);
    w.schedule(fired(log, 'y'), 10);
    w.clear();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(log, ['x']);
    assert.equal(w.size, 0);
  });
});
