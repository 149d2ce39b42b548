import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FifoMap } from '../../src/util/fifo-map';
import { Lwm2mError } from '../../src/errors';

describe('FifoMap', () => {
  test('get/set/update/delete', () => {
    const m = new FifoMap<string>({ capacity: 10, ttlMs: 1000 });
    m.set('a', '1', 0);
    m.set('b', '2', 0);
    assert.equal(m.get('a'), '1');
    assert.equal(m.size, 2);
    assert.equal(m.update('a', '1b'), true);
    assert.equal(m.update('zz', 'x'), false);
    assert.equal(m.get('a'), '1b');
    assert.equal(m.delete('a'), true);
    assert.equal(m.delete('a'), false);
    assert.equal(m.get('a'), undefined);
    assert.deepEqual([...m.entries()], [['b', '2']]);
  });

  test('capacity evicts the oldest first, and onEvict sees it', () => {
    const evicted: string[] = [];
    const m = new FifoMap<number>({ capacity: 3, ttlMs: 1000, onEvict: (k) => evicted.push(k) });
    for (let i = 0; i < 5; i++) m.set('k' + i, i, i);
    assert.equal(m.size, 3);
    assert.deepEqual(evicted, ['k0', 'k1']);
    assert.deepEqual([...m.entries()].map(([k]) => k), ['k2', 'k3', 'k4']);
    // Replacing a key moves it to the back.
    m.set('k2', 22, 10);
    m.set('k5', 5, 11);
    assert.deepEqual([...m.entries()].map(([k]) => k), ['k4', 'k2', 'k5']);
  });

  test('ttl: get ignores expired entries, sweep removes them', () => {
    const m = new FifoMap<number>({ capacity: 100, ttlMs: 100 });
    m.set('old', 1, 0);
    m.set('new', 2, 80);
    assert.equal(m.get('old', 99), 1);
    assert.equal(m.get('old', 100), undefined);
    assert.equal(m.sweep(150), 1);
    assert.equal(m.size, 1);
    assert.equal(m.oldestTime(), 80);
    assert.equal(m.sweep(180), 1);
    assert.equal(m.size, 0);
    assert.equal(m.oldestTime(), Infinity);
  });

  test('maxBytes evicts oldest until the sum fits', () => {
    const m = new FifoMap<Buffer>({ capacity: 100, ttlMs: 1000, maxBytes: 100, sizeOf: (b) => b.length });
    m.set('a', Buffer.alloc(40), 0);
    m.set('b', Buffer.alloc(40), 0);
    m.set('c', Buffer.alloc(40), 0);
    assert.equal(m.has('a'), false);
    assert.equal(m.totalBytes, 80);
    m.update('b', Buffer.alloc(10));
    assert.equal(m.totalBytes, 50);
    m.delete('c');
    assert.equal(m.totalBytes, 10);
  });

  test('churn with deletes and replacements stays bounded and consistent', () => {
    const m = new FifoMap<number>({ capacity: 1000, ttlMs: 1e9 });
    const model = new Map<string, number>();
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
    for (let i = 0; i < 200_000; i++) {
      const k = 'k' + rnd(3000);
      const op = rnd(10);
      if (op < 6) {
        m.set(k, i, i);
        model.delete(k);
        model.set(k, i);
        while (model.size > 1000) model.delete(model.keys().next().value as string);
      } else if (op < 8) {
        const had = model.delete(k);
        if (m.delete(k)) assert.ok(had, `deleted ${k} that the model does not hold`);
      } else {
        const v = m.get(k);
        if (v !== undefined) assert.equal(v, model.get(k));
      }
      assert.ok(m.size <= 1000);
    }
    // Holes are compacted once they fill half the ring: a full map keeps at least half its capacity live.
    assert.ok(m.size >= Math.min(500, model.size), `only ${m.size} live entries`);
    // Holes may have made the map evict a bit earlier than the exact model, never later: every entry it has is right.
    for (const [k, v] of m.entries()) assert.equal(model.get(k), v);
  });

  test('bad options are typed errors', () => {
    assert.throws(() => new FifoMap({ capacity: 0, ttlMs: 1 }), Lwm2mError);
    assert.throws(() => new FifoMap({ capacity: 1, ttlMs: 0 }), Lwm2mError);
  });
});
