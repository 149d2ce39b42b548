import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, getCodec, hasCodec, registerCodec, SUPPORTED_FORMATS } from '../../src/content/index';
import { ContentFormat as CF } from '../../src/content/formats';
import { Codec } from '../../src/content/codec';
import { DecodeError, EncodeError, UnsupportedFormatError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { at, view } from './fixtures';

describe('codec registry', () => {
  test('every LwM2M value format has a codec, registered under its own number', () => {
    for (const f of [CF.TEXT, CF.OPAQUE, CF.CBOR, CF.SENML_JSON, CF.SENML_CBOR, CF.TLV, CF.OLD_TLV, CF.LWM2M_JSON, CF.OLD_JSON, CF.LWM2M_CBOR]) {
      assert.ok(hasCodec(f), String(f));
      assert.equal(getCodec(f).format, f);
      assert.ok(SUPPORTED_FORMATS.includes(f));
    }
    assert.deepEqual([...SUPPORTED_FORMATS], [...SUPPORTED_FORMATS].sort((a, b) => a - b));
  });

  test('unknown formats (and link-format, which carries no values) are UnsupportedFormatError', () => {
    for (const f of [CF.LINK, 41, 50, 11545, -1]) {
      assert.throws(() => getCodec(f), (e: unknown) => e instanceof UnsupportedFormatError && e.format === f);
      assert.throws(() => decode(f, Buffer.alloc(0), at('/')), UnsupportedFormatError);
      assert.throws(() => encode(f, [], at('/')), UnsupportedFormatError);
    }
  });

  test('encode / decode go through the right codec', () => {
    const records = [{ path: Lwm2mPath.parse('/3/0/9'), value: 95 }];
    for (const f of [CF.SENML_JSON, CF.SENML_CBOR, CF.LWM2M_JSON, CF.LWM2M_CBOR, CF.TLV, CF.TEXT, CF.CBOR]) {
      const payload = encode(f, records, at('/3/0/9'));
      assert.deepEqual(view(decode(f, payload, at('/3/0/9'))), [['/3/0/9', 95]], String(f));
    }
    assert.equal(encode(CF.SENML_JSON, records, at('/3/0/9')).toString(), '[{"bn":"/3/0/9","v":95}]');
  });

  test('the wrappers turn unexpected failures into typed errors', () => {
    // A record whose path is not an Lwm2mPath makes codecs fail in whatever way; callers still get a typed error.
    const broken = [{ path: '/3/0/9' as unknown as Lwm2mPath, value: 1 }];
    for (const f of [CF.SENML_JSON, CF.SENML_CBOR, CF.LWM2M_JSON, CF.LWM2M_CBOR]) {
      assert.throws(() => encode(f, broken, at('/3/0/9')), EncodeError, String(f));
    }
    // A codec that throws a plain Error (a bug) is wrapped, the original kept as the cause.
    const fake: Codec = { format: 65001, name: 'buggy', multiPath: false, singleValue: true,
      encode: () => { throw new TypeError('boom'); }, decode: () => { throw new RangeError('boom'); } };
    registerCodec(fake);
    assert.equal(getCodec(65001), fake);
    assert.throws(() => decode(65001, Buffer.alloc(0), at('/')),
      (e: unknown) => e instanceof DecodeError && e.format === 65001 && e.cause instanceof RangeError);
    assert.throws(() => encode(65001, [], at('/')), (e: unknown) => e instanceof EncodeError && e.cause instanceof TypeError);
    assert.throws(() => decode(CF.SENML_CBOR, Buffer.from([0x9f]), at('/')), DecodeError);
  });
});
