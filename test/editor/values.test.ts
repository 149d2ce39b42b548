/**
 * The sidebar's value conversions: library values to the editor's JSON, and Write-form text to typed values
 * (OMA TS Core 1.1 Appendix C data types).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseInput, toWire, shortText, recordsToWire, MAX_OPAQUE_SHOWN } from '../../nodes/lwm2m-sidebar/values';
import { SidebarInputError } from '../../nodes/lwm2m-sidebar/errors';
import { Lwm2mPath } from '../../src/model/path';

describe('toWire', () => {
  test('plain JSON values stay themselves', () => {
    assert.equal(toWire('abc'), 'abc');
    assert.equal(toWire(21.5), 21.5);
    assert.equal(toWire(false), false);
    assert.equal(toWire(undefined), null);
  });
  test('types JSON cannot carry are tagged', () => {
    assert.deepEqual(toWire(2n ** 60n), { t: 'int', v: '1152921504606846976' });
    assert.deepEqual(toWire(Buffer.from([1, 2, 0xff])), { t: 'opaque', v: '0102ff', n: 3 });
    assert.deepEqual(toWire(new Date(1700000000000)), { t: 'time', v: '2023-11-14T22:13:20.000Z', s: 1700000000 });
    assert.deepEqual(toWire({ objectId: 3, instanceId: 0 }), { t: 'objlnk', v: '3:0' });
    assert.deepEqual(toWire(NaN), { t: 'float', v: 'NaN' });
    assert.deepEqual(toWire(new Date(NaN)), { t: 'time', v: 'Invalid Date', s: NaN });
  });
  test('large values are cut, with the full length kept', () => {
    const w = toWire(Buffer.alloc(10000, 0xab)) as { v: string; n: number };
    assert.equal(w.v.length, MAX_OPAQUE_SHOWN * 2);
    assert.equal(w.n, 10000);
    assert.ok((toWire('x'.repeat(100000)) as string).length < 5000);
  });
  test('recordsToWire keys by path and skips records without a value', () => {
    const out = recordsToWire([
      { path: Lwm2mPath.parse('/3/0/0'), value: 'ACME' },
      { path: Lwm2mPath.parse('/3/0/7/1'), value: 3800 },
      { path: Lwm2mPath.parse('/3/0/1') },
    ]);
    assert.deepEqual(out, { '/3/0/0': 'ACME', '/3/0/7/1': 3800 });
  });
  test('shortText is one bounded line', () => {
    assert.equal(shortText('a'), '"a"');
    assert.equal(shortText({ a: 1n }), '{"a":"1"}');
    assert.ok(shortText('y'.repeat(1000)).length <= 120);
    assert.match(shortText(Buffer.alloc(100)), /\(100 bytes\)$/);
  });
});

describe('parseInput', () => {
  const ok = (type: Parameters<typeof parseInput>[0], text: string) => parseInput(type, text, '/x/0/1');
  const bad = (type: Parameters<typeof parseInput>[0], text: unknown, re: RegExp) =>
    assert.throws(() => parseInput(type, text, '/x/0/1'), (err: unknown) => err instanceof SidebarInputError && re.test((err as Error).message));

  test('integers, with bigint beyond 2^53 and the 64-bit range enforced', () => {
    assert.equal(ok('integer', ' -42 '), -42);
    assert.equal(ok('integer', '9223372036854775807'), 2n ** 63n - 1n);
    bad('integer', '9223372036854775808', /out of range/);
    bad('integer', '4.5', /not an integer/);
    bad('integer', '', /not an integer/);
    assert.equal(ok('unsigned', '18446744073709551615'), 2n ** 64n - 1n);
    bad('unsigned', '-1', /not an unsigned/);
  });
  test('floats and booleans', () => {
    assert.equal(ok('float', '21.5'), 21.5);
    assert.equal(ok('float', '-1e3'), -1000);
    bad('float', 'abc', /not a number/);
    bad('float', '1e999', /out of range/);
    assert.equal(ok('boolean', 'TRUE'), true);
    assert.equal(ok('boolean', '0'), false);
    bad('boolean', 'yes', /not a boolean/);
  });
  test('opaque from hex, time from seconds or ISO, object links', () => {
    assert.deepEqual(ok('opaque', '0x01 02:ff'), Buffer.from([1, 2, 255]));
    bad('opaque', '123', /hexadecimal/);
    assert.equal((ok('time', '1700000000') as Date).getTime(), 1700000000000);
    assert.equal((ok('time', '2024-05-01T12:00:00Z') as Date).toISOString(), '2024-05-01T12:00:00.000Z');
    bad('time', 'tomorrow', /not a time/);
    assert.deepEqual(ok('objlnk', '3:0'), { objectId: 3, instanceId: 0 });
    bad('objlnk', '3:99999', /not an object link/);
  });
  test('strings are kept as typed; executables and bad input refused', () => {
    assert.equal(ok('string', '  spaced  '), '  spaced  ');
    bad('none', 'x', /executable/);
    bad('string', { a: 1 }, /must be text/);
    bad('string', 'x'.repeat(70000), /longer than/);
  });
});
