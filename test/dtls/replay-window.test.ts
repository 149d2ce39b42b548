import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayWindow } from '../../src/dtls/replay-window';

/** Reference model: a Set of everything seen and the top. */
class Model {
  seen = new Set<number>();
  top = -1;
  check(s: number): boolean { return !(this.seen.has(s) || (this.top >= 0 && s <= this.top - 64)); }
  mark(s: number): void { this.seen.add(s); this.top = Math.max(this.top, s); }
}

describe('replay window (RFC 6347 4.1.2.6)', () => {
  test('accepts new numbers once, refuses duplicates and numbers older than 64 below the top', () => {
    const w = new ReplayWindow();
    assert.ok(w.check(0));
    w.mark(0);
    assert.ok(!w.check(0));
    assert.ok(w.check(5));
    w.mark(5);
    assert.ok(w.check(3), 'out of order inside the window');
    w.mark(3);
    assert.ok(!w.check(3));
    w.mark(100);
    assert.ok(!w.check(36), '100 - 64 is outside');
    assert.ok(w.check(37));
    assert.ok(!w.check(5));
  });

  test('behaves like a set-based model on a long random sequence', () => {
    let x = 12345;
    const rnd = (): number => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const w = new ReplayWindow();
    const m = new Model();
    let base = 0;
    for (let i = 0; i < 20000; i++) {
      // mostly near the top, sometimes a jump, sometimes old
      const r = rnd();
      base += r < 0.05 ? Math.floor(rnd() * 200) : r < 0.5 ? 1 : 0;
      const s = Math.max(0, base - Math.floor(rnd() * 80));
      assert.equal(w.check(s), m.check(s), `seq ${s} at step ${i}`);
      if (w.check(s)) {
        w.mark(s);
        m.mark(s);
      }
    }
  });

  test('works at the top of the 48-bit range and across 32-bit word boundaries', () => {
    const w = new ReplayWindow();
    const top = 2 ** 48 - 1;
    w.mark(top - 40);
    w.mark(top);
    assert.ok(!w.check(top));
    assert.ok(!w.check(top - 40));
    assert.ok(w.check(top - 33));
    assert.ok(w.check(top - 31));
    assert.ok(w.check(top - 32));
    w.mark(top - 32);
    assert.ok(!w.check(top - 32));
    assert.ok(!w.check(top - 64));
  });

  test('reset forgets everything', () => {
    const w = new ReplayWindow();
    w.mark(10);
    w.reset();
    assert.ok(w.check(10));
    assert.equal(w.top, -1);
  });
});
