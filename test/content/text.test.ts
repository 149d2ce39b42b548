import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath } from '../../src/model/path';
import { DecodeError, EncodeError } from '../../src/errors';
import { textCodec } from '../../src/content/text';
import { Lwm2mValue } from '../../src/content/values';
import { emptyRegistry, registry } from './model-a';

const at = (p: string) => ({ registry, path: Lwm2mPath.parse(p) });
const enc = (p: string, value: Lwm2mValue) => textCodec.encode([{ path: Lwm2mPath.parse(p), value }], at(p)).toString('utf8');
const dec = (p: string, text: string | Buffer) => {
  const records = textCodec.decode(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), at(p));
  assert.equal(records.length, 1);
  assert.equal(records[0].path.toString(), p);
  return records[0].value;
};
const decodeFails = (p: string, text: string | Buffer, ...fragments: string[]) => assert.throws(() => dec(p, text), (e: unknown) => {
  assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
  assert.equal(e.format, 0);
  for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should contain "${f}"`);
  return true;
});

describe('text/plain codec', () => {
  test('identifies itself', () => {
    assert.equal(textCodec.format, 0);
    assert.equal(textCodec.singleValue, true);
    assert.equal(textCodec.multiPath, false);
  });

  test('spec example: Read /3/0/0 answers "Open Mobile Alliance" (Core 1.0 6.4.1 / 1.1 7.4.1)', () => {
    assert.equal(dec('/3/0/0', 'Open Mobile Alliance'), 'Open Mobile Alliance');
    assert.equal(enc('/3/0/0', 'Open Mobile Alliance'), 'Open Mobile Alliance');
  });

  test('round trips every value type', () => {
    const cases: Array<[string, Lwm2mValue, string]> = [
      ['/9999/0/0', '', ''],
      ['/9999/0/0', 'héllo, wörld ✓', 'héllo, wörld ✓'],
      ['/9999/0/1', -42, '-42'],
      ['/9999/0/1', 9223372036854775807n, '9223372036854775807'],
      ['/9999/0/1', -9223372036854775808n, '-9223372036854775808'],
      ['/9999/0/2', 18446744073709551615n, '18446744073709551615'],
      ['/9999/0/3', 1.5, '1.5'],
      ['/9999/0/3', -0.1, '-0.1'],
      ['/9999/0/3', 1e-7, '1e-7'],
      ['/9999/0/4', true, '1'],
      ['/9999/0/4', false, '0'],
      ['/9999/0/5', Buffer.of(0, 1, 2, 255), 'AAEC/w=='],
      ['/9999/0/5', Buffer.alloc(0), ''],
      ['/9999/0/6', new Date(1367491215000), '1367491215'],
      ['/9999/0/7', { objectId: 3, instanceId: 0 }, '3:0'],
      ['/9999/0/8', '</3/0>;rt="x"', '</3/0>;rt="x"'],
      ['/9999/0/10/3', 7, '7'],
    ];
    for (const [p, v, text] of cases) {
      assert.equal(enc(p, v), text, `${p} ${String(v)}`);
      assert.deepEqual(dec(p, text), v, `${p} ${text}`);
    }
  });

  test('decoding is lenient with surrounding whitespace and explicit signs, and reads true/false', () => {
    assert.equal(dec('/9999/0/1', ' 12\n'), 12);
    assert.equal(dec('/9999/0/1', '+12'), 12);
    assert.equal(dec('/9999/0/3', '2E3'), 2000);
    assert.equal(dec('/9999/0/3', '7'), 7);
    assert.equal(dec('/9999/0/4', 'true'), true);
    assert.deepEqual(dec('/9999/0/5', 'AAEC/w'), Buffer.of(0, 1, 2, 255));
  });

  test('integers read the same on both sides of the 15-digit fast path', () => {
    // /9999/0/1 is an Integer, /9999/0/2 an Unsigned Integer (model-a)
    for (const t of ['0', '-0', '+0', '7', '007', '-42', '999999999999999', '-99999999999999', '1000000000000000', '9007199254740993', '-9223372036854775808']) {
      const big = BigInt(t);
      const expected = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      assert.equal(dec('/9999/0/1', t), expected, t);
      assert.ok(!Object.is(dec('/9999/0/1', t), -0), `${t} reads as 0, not -0`);
      if (big >= 0n) assert.equal(dec('/9999/0/2', t), expected, t);
      else decodeFails('/9999/0/2', t, 'unsigned');
    }
  });

  test('non-ASCII text goes through the strict UTF-8 decoder', () => {
    assert.equal(dec('/9999/0/0', 'été'), 'été');
    decodeFails('/9999/0/0', Buffer.from([0x61, 0xff]), 'UTF-8');
  });

  test('decoding validates against the model type', () => {
    decodeFails('/9999/0/1', 'abc', '/9999/0/1', 'integer');
    decodeFails('/9999/0/1', '1.5', 'integer');
    decodeFails('/9999/0/1', '9223372036854775808', 'signed 64-bit');
    decodeFails('/9999/0/2', '-1', 'unsigned');
    decodeFails('/9999/0/3', '1.2.3', 'float');
    decodeFails('/9999/0/3', 'NaN', 'float');
    decodeFails('/9999/0/3', '1e999', 'out of range');
    decodeFails('/9999/0/4', '2', 'boolean');
    decodeFails('/9999/0/5', 'not base64!', 'base64');
    decodeFails('/9999/0/6', 'yesterday', 'time');
    decodeFails('/9999/0/6', '99999999999999999999', 'out of range');
    decodeFails('/9999/0/7', '3', 'objlnk');
    decodeFails('/9999/0/7', '3:70000', 'objlnk');
    decodeFails('/9999/0/9', '', 'executable');
    decodeFails('/9999/0/0', Buffer.of(0xc3, 0x28), 'UTF-8');
  });

  test('unknown resources decode as strings', () => {
    const r = textCodec.decode(Buffer.from('42'), { registry: emptyRegistry, path: Lwm2mPath.parse('/3/0/9') });
    assert.deepEqual(r.map((x) => [x.path.toString(), x.value]), [['/3/0/9', '42']]);
    const out = textCodec.encode([{ path: Lwm2mPath.parse('/3/0/9'), value: 1.25 }], { registry: emptyRegistry, path: Lwm2mPath.parse('/3/0/9') });
    assert.equal(out.toString(), '1.25');
  });

  test('only single resource or resource-instance paths', () => {
    decodeFails('/3/0', '1', 'resource');
    assert.throws(() => textCodec.encode([], at('/3/0/0')), EncodeError);
    assert.throws(() => textCodec.encode([{ path: Lwm2mPath.parse('/3/0/0'), value: 'a' }, { path: Lwm2mPath.parse('/3/0/1'), value: 'b' }], at('/3/0')), EncodeError);
    assert.throws(() => textCodec.encode([{ path: Lwm2mPath.parse('/3/0/1'), value: 'a' }], at('/3/0/0')), /not below/);
    assert.throws(() => textCodec.encode([{ path: Lwm2mPath.parse('/3/0/1') }], at('/3/0/1')), /no value/);
  });

  test('encoding rejects values that do not fit the type or have no text form', () => {
    assert.throws(() => enc('/9999/0/1', 'abc'), (e: unknown) => e instanceof EncodeError && e.format === 0 && e.message.includes('/9999/0/1'));
    assert.throws(() => enc('/9999/0/3', Infinity), EncodeError);
    assert.throws(() => enc('/9999/0/9', 'x'), EncodeError);
    assert.equal(enc('/9999/0/1', '17' as unknown as number), '17');
  });
});
