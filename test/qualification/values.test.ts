/**
 * Values of the qualification suite: type checks by the model's data types and the alternate values written by the
 * write / read-back case (valid for the type, inside the DDF range, different from the current value).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alternateValue, numericRange, sameValue, typeProblem } from '../../src/qualification/values';
import { ResourceDef } from '../../src/model/types';

const def = (type: ResourceDef['type'], range?: string): ResourceDef => ({ id: 1, name: 'r', operations: 'RW', multiple: false, mandatory: false, type, range });

test('typeProblem names what came instead of the type', () => {
  assert.equal(typeProblem('integer', 5), undefined);
  assert.equal(typeProblem('integer', 5n), undefined);
  assert.match(typeProblem('integer', 'abc')!, /expected integer, got string "abc"/);
  assert.match(typeProblem('integer', 1.5)!, /expected integer, got float 1.5/);
  assert.match(typeProblem('unsigned', -1)!, /expected unsigned/);
  assert.equal(typeProblem('time', new Date(0)), undefined);
  assert.match(typeProblem('time', 0)!, /expected time/);
  assert.match(typeProblem('opaque', 'x')!, /expected opaque/);
  assert.equal(typeProblem('objlnk', { objectId: 3, instanceId: 0 }), undefined);
  assert.match(typeProblem('boolean', 1)!, /expected boolean/);
});

test('alternateValue stays inside the range and differs from the current value', () => {
  assert.deepEqual(numericRange('0..100'), [0, 100]);
  assert.deepEqual(numericRange('1-255'), [1, 255]);
  assert.equal(numericRange('abc'), undefined);
  assert.equal(alternateValue(9, def('integer', '0..100'), 100), 99);
  assert.equal(alternateValue(9, def('integer', '0..100'), 5), 6);
  assert.equal(alternateValue(9, def('integer', '7..7'), 7), undefined);
  assert.equal(alternateValue(9, def('boolean'), true), false);
  assert.equal(alternateValue(9, def('string', 'a,b'), 'a'), undefined, 'an enumerated string is not guessed');
  assert.notEqual(alternateValue(9, def('string'), 'x'), 'x');
  assert.equal(alternateValue(3, { ...def('string'), id: 14 }, '+01:00'), '+02:00', 'UTC offset keeps its format');
  assert.equal(alternateValue(9, def('objlnk'), { objectId: 1, instanceId: 0 }), undefined);
  const f = alternateValue(9, def('float', '0..1'), 1) as number;
  assert.ok(f >= 0 && f <= 1 && f !== 1);
});

test('sameValue: Time with slack, floats with rounding, Buffers by content', () => {
  assert.ok(sameValue('time', new Date(10_000), new Date(12_000)));
  assert.ok(!sameValue('time', new Date(10_000), new Date(100_000)));
  assert.ok(sameValue('float', 0.1 + 0.2, 0.3));
  assert.ok(sameValue('opaque', Buffer.from([1]), Buffer.from([1])));
  assert.ok(!sameValue('integer', 1, '1'));
});
