import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePlainRecord, parseRecord, RecordView, writeRecordHeader } from '../../src/dtls/record';

describe('record framing (RFC 6347 4.1)', () => {
  test('encode then parse gives back every field, 48-bit sequence numbers included', () => {
    const v = new RecordView();
    for (const seq of [0, 1, 0xffffffff, 0x100000000, 2 ** 48 - 1]) {
      const rec = encodePlainRecord(22, 0xfefd, 0, seq, Buffer.from('abc'));
      assert.equal(rec.length, 16);
      assert.equal(parseRecord(rec, 0, v), 16);
      assert.deepEqual([v.type, v.version, v.epoch, v.seq, v.start, v.end], [22, 0xfefd, 0, seq, 13, 16]);
    }
  });

  test('header bytes are big-endian as on the wire', () => {
    const b = Buffer.alloc(13);
    writeRecordHeader(b, 0, 23, 0xfefd, 0x0102, 0x030405060708, 0x090a);
    assert.deepEqual(b, Buffer.from('17fefd0102030405060708090a', 'hex'));
  });

  test('several records in one datagram are walked one by one', () => {
    const a = encodePlainRecord(22, 0xfeff, 0, 1, Buffer.alloc(5, 1));
    const b = encodePlainRecord(20, 0xfefd, 0, 2, Buffer.from([1]));
    const c = encodePlainRecord(21, 0xfefd, 1, 3, Buffer.alloc(0));
    const dgram = Buffer.concat([a, b, c]);
    const v = new RecordView();
    const seen: number[] = [];
    for (let off = 0; off < dgram.length;) {
      off = parseRecord(dgram, off, v);
      assert.ok(off > 0);
      seen.push(v.type, v.seq, v.end - v.start);
    }
    assert.deepEqual(seen, [22, 1, 5, 20, 2, 1, 21, 3, 0]);
  });

  test('truncated, oversized, unknown type or version: not a record', () => {
    const v = new RecordView();
    const ok = encodePlainRecord(23, 0xfefd, 1, 1, Buffer.alloc(10));
    assert.equal(parseRecord(ok.subarray(0, 12), 0, v), -1, 'short header');
    assert.equal(parseRecord(ok.subarray(0, 22), 0, v), -1, 'length beyond datagram');
    for (const type of [0, 19, 24, 25, 255]) {
      const r = Buffer.from(ok);
      r[0] = type;
      assert.equal(parseRecord(r, 0, v), -1, `type ${type}`);
    }
    for (const version of [0x0303, 0xfefe, 0xfefc, 0x0000]) {
      const r = Buffer.from(ok);
      r.writeUInt16BE(version, 1);
      assert.equal(parseRecord(r, 0, v), -1, `version ${version.toString(16)}`);
    }
    const big = Buffer.alloc(13 + 18433);
    writeRecordHeader(big, 0, 23, 0xfefd, 1, 0, 18433);
    assert.equal(parseRecord(big, 0, v), -1, 'above 2^14 + 2048');
  });
});
