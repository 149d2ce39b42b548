import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'crypto';
import { encodeHandshake, fragmentHandshake, parseHandshakeFragments } from '../../src/dtls/handshake-messages';
import { FragmentResult, HandshakeReassembler } from '../../src/dtls/handshake-reassembler';

function fragmentsOf(type: number, seq: number, body: Buffer, size: number) {
  return fragmentHandshake(encodeHandshake(type, seq, body), size).map((f) => parseHandshakeFragments(f)[0]);
}

function shuffle<T>(a: T[], seed: number): T[] {
  let x = seed;
  for (let i = a.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('handshake fragmentation (RFC 6347 4.2.3)', () => {
  test('fragments carry the whole message length, offsets and lengths, and fit the size', () => {
    const body = randomBytes(100);
    const frags = fragmentHandshake(encodeHandshake(2, 7, body), 40);
    assert.equal(frags.length, Math.ceil(100 / 28));
    let off = 0;
    for (const f of frags) {
      assert.ok(f.length <= 40);
      const p = parseHandshakeFragments(f)[0];
      assert.deepEqual([p.msgType, p.length, p.messageSeq, p.fragmentOffset], [2, 100, 7, off]);
      assert.deepEqual(p.body, body.subarray(off, off + p.fragmentLength));
      off += p.fragmentLength;
    }
    assert.equal(off, 100);
  });

  test('a message that fits is not fragmented', () => {
    const m = encodeHandshake(14, 3, Buffer.alloc(0));
    assert.deepEqual(fragmentHandshake(m, 12), [m]);
  });
});

describe('handshake reassembly (RFC 6347 4.2.2)', () => {
  test('out-of-order, duplicated fragments of several messages come out whole and in order', () => {
    const bodies = [randomBytes(300), randomBytes(1), randomBytes(0), randomBytes(257)];
    const frags = bodies.flatMap((b, i) => fragmentsOf(10 + i, i, b, 12 + 37));
    const all = shuffle([...frags, ...frags.slice(0, 5)], 42);
    const r = new HandshakeReassembler(4096, 8, 8192);
    const out: Buffer[] = [];
    for (const f of all) {
      assert.notEqual(r.add(f), FragmentResult.Dropped);
      for (let m = r.next(); m; m = r.next()) {
        assert.equal(m.msgType, 10 + m.messageSeq);
        // raw is the message as if unfragmented: what the transcript hashes
        assert.deepEqual(m.raw, encodeHandshake(m.msgType, m.messageSeq, m.body));
        out.push(m.body);
      }
    }
    assert.deepEqual(out, bodies);
    assert.equal(r.nextSeq, 4);
  });

  test('overlapping fragments reassemble', () => {
    const body = randomBytes(50);
    const m = encodeHandshake(1, 0, body);
    const r = new HandshakeReassembler();
    const frag = (off: number, len: number) => {
      const f = Buffer.alloc(12 + len);
      m.copy(f, 0, 0, 6);
      f.writeUIntBE(off, 6, 3);
      f.writeUIntBE(len, 9, 3);
      body.copy(f, 12, off, off + len);
      return parseHandshakeFragments(f)[0];
    };
    r.add(frag(10, 30));
    r.add(frag(0, 15));
    assert.equal(r.next(), null);
    r.add(frag(35, 15));
    assert.deepEqual(r.next()?.body, body);
  });

  test('messages already delivered are reported old; too far ahead, too long or inconsistent are dropped', () => {
    const r = new HandshakeReassembler(100, 4, 200);
    const m0 = fragmentsOf(1, 0, Buffer.alloc(10), 100)[0];
    assert.equal(r.add(m0), FragmentResult.Accepted);
    assert.ok(r.next());
    assert.equal(r.add(m0), FragmentResult.Old);
    assert.equal(r.add(fragmentsOf(1, 5, Buffer.alloc(10), 100)[0]), FragmentResult.Dropped, 'beyond the window');
    assert.equal(r.add(fragmentsOf(1, 1, Buffer.alloc(101), 200)[0]), FragmentResult.Dropped, 'too long');
    const a = fragmentsOf(2, 1, Buffer.alloc(60), 40);
    assert.equal(r.add(a[0]), FragmentResult.Accepted);
    const other = fragmentsOf(3, 1, Buffer.alloc(60), 40)[1];
    assert.equal(r.add(other), FragmentResult.Dropped, 'another type for the same message_seq');
    const otherLen = fragmentsOf(2, 1, Buffer.alloc(61), 40)[1];
    assert.equal(r.add(otherLen), FragmentResult.Dropped, 'another length for the same message_seq');
  });

  test('the memory budget bounds partially received messages', () => {
    const r = new HandshakeReassembler(100, 8, 150);
    assert.equal(r.add(fragmentsOf(1, 0, Buffer.alloc(100), 40)[0]), FragmentResult.Accepted);
    assert.equal(r.add(fragmentsOf(1, 1, Buffer.alloc(100), 40)[0]), FragmentResult.Dropped);
  });

  test('malformed fragments throw while splitting the record', () => {
    assert.throws(() => parseHandshakeFragments(Buffer.alloc(11)), { code: 'DTLS_DECODE' });
    const f = encodeHandshake(1, 0, Buffer.alloc(10));
    assert.throws(() => parseHandshakeFragments(f.subarray(0, 20)), { code: 'DTLS_DECODE' });
    const past = Buffer.from(f);
    past.writeUIntBE(5, 6, 3); // offset 5 + length 10 > message length 10
    assert.throws(() => parseHandshakeFragments(past), { code: 'DTLS_DECODE' });
  });
});
