import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath } from '../../src/model/path';
import { DecodeError, EncodeError } from '../../src/errors';
import {
  dateToSeconds, decodedToModel, formatObjectLink, isFloat32, isMultipleResource, normalizeInteger, parseIntegerText,
  parseObjectLink, resourceTypeOf, secondsToDate, toModelValue, INT64_MAX, INT64_MIN, UINT64_MAX,
} from '../../src/content/typing';
import { registry } from './model-a';

const P = Lwm2mPath.parse('/9999/0/1');

function encodeFails(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EncodeError, `expected EncodeError, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should contain "${f}"`);
    return true;
  });
}

describe('typing: model lookups', () => {
  test('resourceTypeOf finds the type of resources and resource instances', () => {
    assert.equal(resourceTypeOf(registry, Lwm2mPath.parse('/3/0/13')), 'time');
    assert.equal(resourceTypeOf(registry, Lwm2mPath.parse('/3/0/7/1')), 'integer');
    assert.equal(resourceTypeOf(registry, Lwm2mPath.parse('/3/0')), undefined);
    assert.equal(resourceTypeOf(registry, Lwm2mPath.parse('/3/0/999')), undefined);
    assert.equal(resourceTypeOf(registry, Lwm2mPath.parse('/12345/0/0')), undefined);
    assert.equal(isMultipleResource(registry, Lwm2mPath.parse('/3/0/7')), true);
    assert.equal(isMultipleResource(registry, Lwm2mPath.parse('/3/0/9')), false);
  });
});

describe('typing: integers', () => {
  test('normalizeInteger keeps safe integers as numbers and larger ones as bigint', () => {
    assert.equal(normalizeInteger(5n), 5);
    assert.equal(normalizeInteger(BigInt(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
    assert.equal(normalizeInteger(BigInt(Number.MIN_SAFE_INTEGER)), Number.MIN_SAFE_INTEGER);
    assert.equal(normalizeInteger(BigInt(Number.MAX_SAFE_INTEGER) + 1n), 2n ** 53n);
    assert.equal(normalizeInteger(INT64_MIN), INT64_MIN);
    assert.equal(normalizeInteger(7), 7);
  });
  test('parseIntegerText', () => {
    assert.equal(parseIntegerText('-12'), -12);
    assert.equal(parseIntegerText('9223372036854775807'), INT64_MAX);
    assert.equal(parseIntegerText('1.5'), undefined);
    assert.equal(parseIntegerText('abc'), undefined);
  });
  test('toModelValue checks integer ranges and converts strings', () => {
    assert.equal(toModelValue(42, 'integer', 0, P), 42);
    assert.equal(toModelValue('42', 'integer', 0, P), 42);
    assert.equal(toModelValue(2n ** 60n, 'integer', 0, P), 2n ** 60n);
    assert.equal(toModelValue(3n, 'integer', 0, P), 3);
    assert.equal(toModelValue(INT64_MIN, 'integer', 0, P), INT64_MIN);
    assert.equal(toModelValue(UINT64_MAX, 'unsigned', 0, P), UINT64_MAX);
    encodeFails(() => toModelValue(INT64_MAX + 1n, 'integer', 0, P), '/9999/0/1', 'integer', 'signed 64-bit');
    encodeFails(() => toModelValue(-1, 'unsigned', 0, P), 'unsigned 64-bit');
    encodeFails(() => toModelValue(UINT64_MAX + 1n, 'unsigned', 0, P), 'unsigned 64-bit');
    encodeFails(() => toModelValue(1.5, 'integer', 11542, P), 'not an integer');
    encodeFails(() => toModelValue('x', 'integer', 0, P), '"x"');
    encodeFails(() => toModelValue(true, 'integer', 0, P));
  });
});

describe('typing: other types', () => {
  test('floats', () => {
    assert.equal(toModelValue(1.5, 'float', 0, P), 1.5);
    assert.equal(toModelValue('2.25', 'float', 0, P), 2.25);
    assert.equal(toModelValue(3n, 'float', 0, P), 3);
    encodeFails(() => toModelValue('abc', 'float', 0, P));
    encodeFails(() => toModelValue('', 'float', 0, P));
    assert.equal(isFloat32(1.5), true);
    assert.equal(isFloat32(0.1), false);
    assert.equal(isFloat32(Math.fround(0.1)), true);
    assert.equal(isFloat32(NaN), true);
  });
  test('booleans', () => {
    assert.equal(toModelValue(true, 'boolean', 0, P), true);
    assert.equal(toModelValue(0, 'boolean', 0, P), false);
    assert.equal(toModelValue('1', 'boolean', 0, P), true);
    assert.equal(toModelValue('false', 'boolean', 0, P), false);
    encodeFails(() => toModelValue(2, 'boolean', 0, P));
    encodeFails(() => toModelValue('yes', 'boolean', 0, P));
  });
  test('strings and corelnk', () => {
    assert.equal(toModelValue('', 'string', 0, P), '');
    assert.equal(toModelValue(12, 'string', 0, P), '12');
    assert.equal(toModelValue('</1/0>', 'corelnk', 0, P), '</1/0>');
    encodeFails(() => toModelValue({}, 'string', 0, P));
  });
  test('opaque', () => {
    assert.deepEqual(toModelValue(Buffer.of(1, 2), 'opaque', 0, P), Buffer.of(1, 2));
    assert.deepEqual(toModelValue(new Uint8Array([3, 4]), 'opaque', 0, P), Buffer.of(3, 4));
    assert.deepEqual(toModelValue(Buffer.of(5, 6).toJSON(), 'opaque', 0, P), Buffer.of(5, 6));
    assert.deepEqual(toModelValue('ab', 'opaque', 0, P), Buffer.from('ab'));
    encodeFails(() => toModelValue(12, 'opaque', 0, P), 'Buffer');
  });
  test('time accepts Date, seconds and ISO strings', () => {
    const d = new Date(1367491215000);
    assert.deepEqual(toModelValue(d, 'time', 0, P), d);
    assert.deepEqual(toModelValue(1367491215, 'time', 0, P), d);
    assert.deepEqual(toModelValue(1367491215n, 'time', 0, P), d);
    assert.deepEqual(toModelValue('1367491215', 'time', 0, P), d);
    assert.deepEqual(toModelValue('2013-05-02T10:40:15Z', 'time', 0, P), d);
    encodeFails(() => toModelValue(new Date(NaN), 'time', 0, P));
    encodeFails(() => toModelValue('yesterday', 'time', 0, P));
    encodeFails(() => toModelValue(1e300, 'time', 0, P));
    assert.equal(dateToSeconds(new Date(1500)), 1);
    assert.equal(dateToSeconds(new Date(-1500)), -2);
    assert.deepEqual(secondsToDate(10), new Date(10000));
    assert.equal(secondsToDate(1e20), undefined);
    assert.equal(secondsToDate(2n ** 62n), undefined);
  });
  test('objlnk accepts "O:I" and objects, and checks ids', () => {
    assert.deepEqual(toModelValue('3:1', 'objlnk', 0, P), { objectId: 3, instanceId: 1 });
    assert.deepEqual(toModelValue({ objectId: 65535, instanceId: 65535 }, 'objlnk', 0, P), { objectId: 65535, instanceId: 65535 });
    encodeFails(() => toModelValue({ objectId: 65536, instanceId: 0 }, 'objlnk', 0, P));
    encodeFails(() => toModelValue('3:', 'objlnk', 0, P));
    assert.deepEqual(parseObjectLink('66:0'), { objectId: 66, instanceId: 0 });
    assert.equal(parseObjectLink('70000:0'), undefined);
    assert.equal(parseObjectLink('1:2:3'), undefined);
    assert.equal(formatObjectLink({ objectId: 3, instanceId: 0 }), '3:0');
  });
  test('executable resources and unknown types carry no value', () => {
    encodeFails(() => toModelValue('x', 'none', 0, P), 'executable');
  });
  test('without a type any Lwm2mValue passes unchanged, anything else fails', () => {
    for (const v of ['s', 1, 1.5, 2n ** 70n, true, Buffer.of(1), new Date(0), { objectId: 1, instanceId: 2 }]) {
      assert.equal(toModelValue(v, undefined, 0, P), v);
    }
    assert.deepEqual(toModelValue(new Uint8Array([1]), undefined, 0, P), Buffer.of(1));
    encodeFails(() => toModelValue(null, undefined, 0, P), 'null');
    encodeFails(() => toModelValue([1, 2], undefined, 0, P), 'array');
    encodeFails(() => toModelValue(undefined, undefined, 0, P));
    encodeFails(() => toModelValue({ objectId: -1, instanceId: 0 }, undefined, 0, P));
  });
});

describe('typing: decodedToModel', () => {
  test('converts native decoded values to the model type', () => {
    assert.deepEqual(decodedToModel(1367491215, 'time', 60, P), new Date(1367491215000));
    assert.deepEqual(decodedToModel('3:0', 'objlnk', 60, P), { objectId: 3, instanceId: 0 });
    assert.equal(decodedToModel(2n ** 60n, 'unsigned', 60, P), 2n ** 60n);
    assert.equal(decodedToModel(7n, 'integer', 60, P), 7);
    assert.equal(decodedToModel(5, 'float', 60, P), 5);
    assert.equal(decodedToModel('x', undefined, 60, P), 'x');
  });
  test('rejects values that do not fit with DecodeError naming path and type', () => {
    for (const [v, t] of [[1.5, 'integer'], ['x', 'boolean'], [1, 'string'], [-1, 'unsigned'], ['3-0', 'objlnk'], [Buffer.of(1), 'float'], [1, 'none']] as const) {
      assert.throws(() => decodedToModel(v, t, 60, P), (e: unknown) => e instanceof DecodeError && e.message.includes('/9999/0/1') && e.format === 60);
    }
  });
});
