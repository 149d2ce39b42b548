import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryPskStore, toKey } from '../../src/dtls/psk-store';
import { DtlsConfigError } from '../../src/dtls/errors';

describe('PSK store', () => {
  test('keys from buffers, hex strings or a record; updated at run time; copied in', () => {
    const raw = Buffer.from('secret');
    const s = new MemoryPskStore({ a: '0a0b', b: raw });
    assert.deepEqual(s.getKey('a'), Buffer.from([10, 11]));
    raw[0] = 0;
    assert.deepEqual(s.getKey('b'), Buffer.from('secret'));
    assert.equal(s.getKey('c'), undefined);
    s.set('c', '0x0102');
    assert.deepEqual(s.getKey('c'), Buffer.from([1, 2]));
    assert.ok(s.delete('a'));
    assert.equal(s.getKey('a'), undefined);
    assert.equal(s.size, 2);
    const fromPairs = new MemoryPskStore([['x', Buffer.from([1])]]);
    assert.ok(fromPairs.has('x'));
  });

  test('bad keys and identities are refused with DtlsConfigError', () => {
    assert.throws(() => toKey(''), DtlsConfigError);
    assert.throws(() => toKey('abc'), DtlsConfigError);
    assert.throws(() => toKey('zz'), DtlsConfigError);
    assert.throws(() => toKey(Buffer.alloc(513)), DtlsConfigError);
    assert.throws(() => new MemoryPskStore().set('', '00'), DtlsConfigError);
  });
});
