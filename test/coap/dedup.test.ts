import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ACK_MARK, DedupCache, INLINE_BYTES, ipv4Number, NON_MARK, PENDING_MARK, RST_MARK } from '../../src/coap/dedup';
import { peerKeyOf } from '../../src/coap/endpoint';
import { FifoMap } from '../../src/util/fifo-map';
import { Lwm2mError } from '../../src/errors';

describe('DedupCache (RFC 7252 4.5 deduplication state)', () => {
  test('markers come back as the same objects, answers as equal bytes (inline or not)', () => {
    const d = new DedupCache({ capacity: 100, ttlMs: 1000 });
    const small = Buffer.from('6041beef01020304c1a2', 'hex');
    const exact = Buffer.alloc(INLINE_BYTES, 7);
    const large = Buffer.alloc(300, 9);
    d.set('10.0.0.1', 5683, 1, PENDING_MARK, 0);
    d.set('10.0.0.1', 5683, 2, NON_MARK, 0);
    d.set('10.0.0.1', 5683, 3, ACK_MARK, 0);
    d.set('10.0.0.1', 5683, 4, RST_MARK, 0);
    d.set('10.0.0.1', 5683, 5, small, 0);
    d.set('10.0.0.1', 5683, 6, exact, 0);
    d.set('10.0.0.1', 5683, 7, large, 0);
    assert.equal(d.size, 7);
    assert.equal(d.get('10.0.0.1', 5683, 1, 1), PENDING_MARK);
    assert.equal(d.get('10.0.0.1', 5683, 2, 1), NON_MARK);
    assert.equal(d.get('10.0.0.1', 5683, 3, 1), ACK_MARK);
    assert.equal(d.get('10.0.0.1', 5683, 4, 1), RST_MARK);
    const got = d.get('10.0.0.1', 5683, 5, 1)!;
    assert.deepEqual(got, small);
    got[0] = 0; // a copy: the cache keeps its bytes
    assert.deepEqual(d.get('10.0.0.1', 5683, 5, 1), small);
    assert.deepEqual(d.get('10.0.0.1', 5683, 6, 1), exact);
    assert.deepEqual(d.get('10.0.0.1', 5683, 7, 1), large);
    assert.equal(d.get('10.0.0.1', 5683, 8, 1), undefined);
    assert.equal(d.get('10.0.0.1', 5684, 1, 1), undefined, 'another port');
    assert.equal(d.get('10.0.0.2', 5683, 1, 1), undefined, 'another address');
    // update keeps the entry, replaces the value (a pending request gets its answer)
    assert.equal(d.update('10.0.0.1', 5683, 1, small), true);
    assert.deepEqual(d.get('10.0.0.1', 5683, 1, 1), small);
    assert.equal(d.update('10.0.0.1', 5683, 7, ACK_MARK), true);
    assert.equal(d.get('10.0.0.1', 5683, 7, 1), ACK_MARK);
    assert.equal(d.update('10.0.0.9', 5683, 1, ACK_MARK), false);
    assert.equal(d.size, 7);
  });

  test('entries expire after ttlMs: ignored by get, dropped by sweep', () => {
    const d = new DedupCache({ capacity: 100, ttlMs: 1000 });
    d.set('10.0.0.1', 1, 1, ACK_MARK, 0);
    d.set('10.0.0.1', 1, 2, ACK_MARK, 500);
    assert.equal(d.get('10.0.0.1', 1, 1, 999), ACK_MARK);
    assert.equal(d.get('10.0.0.1', 1, 1, 1000), undefined);
    assert.equal(d.get('10.0.0.1', 1, 1), ACK_MARK, 'without a clock: present until swept');
    assert.equal(d.sweep(1000), 1);
    assert.equal(d.size, 1);
    assert.equal(d.get('10.0.0.1', 1, 1), undefined);
    assert.equal(d.get('10.0.0.1', 1, 2, 1000), ACK_MARK);
    // an expired entry set again is fresh
    d.set('10.0.0.1', 1, 2, RST_MARK, 1600);
    assert.equal(d.get('10.0.0.1', 1, 2, 2000), RST_MARK);
    assert.equal(d.sweep(2599), 0);
    assert.equal(d.sweep(2600), 1);
    assert.equal(d.size, 0);
  });

  test('capacity: the oldest entry goes first', () => {
    const d = new DedupCache({ capacity: 100, ttlMs: 1e9 });
    for (let i = 0; i < 250; i++) d.set('192.168.1.1', 1000, i, ACK_MARK, i);
    assert.equal(d.size, 100);
    assert.equal(d.get('192.168.1.1', 1000, 149, 300), undefined);
    assert.equal(d.get('192.168.1.1', 1000, 150, 300), ACK_MARK);
    assert.equal(d.get('192.168.1.1', 1000, 249, 300), ACK_MARK);
  });

  test('IPv4-mapped IPv6 is the same peer as IPv4; IPv6 and odd spellings are kept apart', () => {
    const d = new DedupCache({ capacity: 100, ttlMs: 1e9 });
    d.set('::ffff:10.1.2.3', 7, 9, ACK_MARK, 0);
    assert.equal(d.get('10.1.2.3', 7, 9, 1), ACK_MARK);
    d.set('2001:db8::1', 7, 9, RST_MARK, 0);
    d.set('2001:db8::2', 7, 9, NON_MARK, 0);
    d.set('010.1.2.3', 7, 9, PENDING_MARK, 0);
    assert.equal(d.get('2001:db8::1', 7, 9, 1), RST_MARK);
    assert.equal(d.get('2001:db8::2', 7, 9, 1), NON_MARK);
    assert.equal(d.get('010.1.2.3', 7, 9, 1), PENDING_MARK);
    assert.equal(d.get('10.1.2.3', 7, 9, 1), ACK_MARK);
    assert.equal(d.size, 4);
    assert.equal(ipv4Number('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4Number('::ffff:1.2.3.4'), 0x01020304);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.', '01.2.3.4', '1..2.3', 'a.b.c.d', '::1', '']) assert.equal(ipv4Number(bad), -1, bad);
  });

  test('refuses bad options', () => {
    assert.throws(() => new DedupCache({ capacity: 0, ttlMs: 1 }), Lwm2mError);
    assert.throws(() => new DedupCache({ capacity: 10, ttlMs: 0 }), Lwm2mError);
  });

  /** Random operations on a few peers (IPv4, IPv4-mapped, IPv6, scoped IPv6), ports and message ids. */
  function operations(steps: number, each: (op: { kind: number; addr: string; port: number; mid: number; key: string; value: Buffer; now: number }) => void): void {
    let seed = 3;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000) * n);
    const peers = ['10.0.0.1', '::ffff:10.0.0.1', '10.0.0.2', '127.0.0.1', '2001:db8::1', '2001:db8::2', 'fe80::1%eth0', '1.2.3.4'];
    const values = [PENDING_MARK, NON_MARK, ACK_MARK, RST_MARK, Buffer.from('a'), Buffer.alloc(INLINE_BYTES, 1), Buffer.alloc(INLINE_BYTES + 1, 2), Buffer.alloc(0)];
    let now = 0;
    for (let step = 0; step < steps; step++) {
      now += rnd(3);
      const addr = peers[rnd(peers.length)];
      const port = 5683 + rnd(3);
      const mid = rnd(40);
      each({ kind: rnd(10), addr, port, mid, key: peerKeyOf(addr, port) + '#' + mid, value: values[rnd(values.length)], now });
    }
  }
  const same = (a: Buffer | undefined, b: Buffer | undefined, what: string) => {
    if (b === undefined || b === PENDING_MARK || b === NON_MARK || b === ACK_MARK || b === RST_MARK) assert.equal(a, b, what);
    else assert.deepEqual(a, b, what);
  };

  test('behaves like the string-keyed FifoMap it replaces (random operations below the capacity, step by step)', () => {
    const ttlMs = 200;
    const d = new DedupCache({ capacity: 100_000, ttlMs });
    const ref = new FifoMap<Buffer>({ capacity: 100_000, ttlMs });
    let step = 0;
    operations(30000, ({ kind, addr, port, mid, key, value, now }) => {
      step++;
      if (kind < 4) {
        d.set(addr, port, mid, value, now);
        ref.set(key, value, now);
      } else if (kind < 6) {
        assert.equal(d.update(addr, port, mid, value), ref.update(key, value));
      } else if (kind < 7) {
        assert.equal(d.sweep(now), ref.sweep(now));
      } else {
        same(d.get(addr, port, mid, now), ref.get(key, now), `step ${step}`);
      }
      assert.equal(d.size, ref.size, `size at step ${step}`);
    });
  });

  test('under eviction pressure: never more than the capacity, never a wrong or resurrected answer', () => {
    for (const capacity of [1, 7, 64]) {
      const ttlMs = 200;
      const d = new DedupCache({ capacity, ttlMs });
      /** Last value set per key, and when; gone: evicted (absent in the cache while the reference still has it). */
      const ref = new Map<string, { value: Buffer; time: number }>();
      const gone = new Set<string>();
      let step = 0;
      operations(20000, ({ kind, addr, port, mid, key, value, now }) => {
        step++;
        const r = ref.get(key);
        const fresh = r !== undefined && r.time + ttlMs > now;
        if (kind < 4) {
          d.set(addr, port, mid, value, now);
          ref.set(key, { value, time: now });
          gone.delete(key);
          same(d.get(addr, port, mid, now), value, `the newest entry is there (step ${step})`);
        } else if (kind < 6) {
          const updated = d.update(addr, port, mid, value);
          if (updated) {
            assert.ok(r !== undefined && !gone.has(key), `update found a key never set or evicted (step ${step})`);
            r.value = value;
          }
        } else if (kind < 7) {
          d.sweep(now);
        } else {
          const got = d.get(addr, port, mid, now);
          if (got === undefined) {
            if (fresh) gone.add(key);
          } else {
            assert.ok(fresh && !gone.has(key), `answer for an expired, evicted or unknown key (step ${step})`);
            same(got, r!.value, `step ${step}`);
          }
        }
        assert.ok(d.size <= capacity, `size ${d.size} above capacity ${capacity}`);
      });
    }
  });
});
