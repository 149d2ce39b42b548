import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath } from '../../src/model/path';
import { DecodeError, EncodeError } from '../../src/errors';
import { opaqueCodec } from '../../src/content/opaque';
import { emptyRegistry, registry } from './model-a';

const at = (p: string, reg = registry) => ({ registry: reg, path: Lwm2mPath.parse(p) });

describe('opaque codec (42)', () => {
  test('identifies itself', () => {
    assert.equal(opaqueCodec.format, 42);
    assert.equal(opaqueCodec.singleValue, true);
  });

  test('round trips bytes, including empty and large payloads', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.of(0, 255, 7), Buffer.alloc(100000, 0xab)]) {
      const p = Lwm2mPath.parse('/9999/0/5');
      const out = opaqueCodec.encode([{ path: p, value: bytes }], at('/9999/0/5'));
      assert.deepEqual(out, bytes);
      const back = opaqueCodec.decode(out, at('/9999/0/5'));
      assert.equal(back.length, 1);
      assert.equal(back[0].path.toString(), '/9999/0/5');
      assert.deepEqual(back[0].value, bytes);
    }
  });

  test('decoded bytes are a copy, not a view of the payload', () => {
    const payload = Buffer.of(1, 2, 3);
    const [r] = opaqueCodec.decode(payload, at('/9999/0/12/4'));
    payload[0] = 9;
    assert.deepEqual(r.value, Buffer.of(1, 2, 3));
    assert.equal(r.path.toString(), '/9999/0/12/4');
  });

  test('unknown resources are accepted as opaque', () => {
    assert.deepEqual(opaqueCodec.decode(Buffer.of(1), at('/5/0/0', emptyRegistry))[0].value, Buffer.of(1));
  });

  test('only Opaque resources', () => {
    assert.throws(() => opaqueCodec.decode(Buffer.of(1), at('/3/0/9')), (e: unknown) => e instanceof DecodeError && e.format === 42 && e.message.includes('integer'));
    assert.throws(() => opaqueCodec.encode([{ path: Lwm2mPath.parse('/3/0/9'), value: Buffer.of(1) }], at('/3/0/9')), EncodeError);
    assert.throws(() => opaqueCodec.decode(Buffer.of(1), at('/3/0')), DecodeError);
    assert.throws(() => opaqueCodec.encode([{ path: Lwm2mPath.parse('/9999/0/5'), value: 5 }], at('/9999/0/5')), EncodeError);
  });
});
