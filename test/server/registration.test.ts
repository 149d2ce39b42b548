import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  compactObjects, parseRegisterQuery, parseUpdateQuery, registrationObjects, RegistrationRejection, validateBinding,
} from '../../src/server/registration';

const bounds = { minLifetime: 1, maxLifetime: 0xffffffff, defaultLifetime: 86400 };

describe('Register / Update parameters', () => {
  test('full 1.1 query', () => {
    const p = parseRegisterQuery(['ep=urn:imei:123', 'lt=300', 'lwm2m=1.1', 'b=UT', 'sms=+123', 'Q', 'et=x'], bounds);
    assert.deepEqual(p, { endpoint: 'urn:imei:123', version: '1.1', lifetime: 300, binding: 'UT', queueMode: true, sms: '+123', attributes: { et: 'x' } });
  });

  test('defaults (Core 1.1 6.2.1): lt 86400, lwm2m 1.0, binding U, no queue mode', () => {
    assert.deepEqual(parseRegisterQuery(['ep=a'], bounds), { endpoint: 'a', version: '1.0', lifetime: 86400, binding: 'U', queueMode: false });
    assert.equal((parseRegisterQuery(['ep=a'], { ...bounds, defaultLifetime: 3600 }) as { lifetime: number }).lifetime, 3600);
  });

  test('rejections carry a code and a reason', () => {
    const cases: Array<[string[], string, RegExp]> = [
      [[], '4.00', /missing endpoint/],
      [['ep=a', 'lwm2m=1.3'], '4.12', /unsupported LwM2M version "1.3"/],
      [['ep=a', 'lwm2m'], '4.12', /unsupported/],
      [['ep=a', 'lt=99999999999'], '4.00', /positive integer/],
      [['ep=a', 'lt=4294967296'], '4.00', /maximum lifetime/],
      [['ep=a', 'b'], '4.00', /without a value/],
      [['ep=a', 'lwm2m=1.1', 'Q=1'], '4.00', /takes no value/],
      [['ep=a', '=x'], '4.00', /malformed/],
      [['ep=' + 'x'.repeat(256)], '4.00', /longer than 255/],
      [Array.from({ length: 40 }, (_, i) => `p${i}=1`), '4.00', /too many/],
    ];
    for (const [q, code, reason] of cases) {
      const r = parseRegisterQuery(q, bounds);
      assert.ok(r instanceof RegistrationRejection, q.join('&'));
      assert.equal(r.code, code, q.join('&'));
      assert.match(r.reason, reason);
    }
  });

  test('binding letters per version', () => {
    for (const b of ['U', 'UQ', 'S', 'SQ', 'US', 'UQS']) assert.equal(validateBinding(b, '1.0'), undefined, b);
    for (const b of ['T', 'N', 'UT', 'Q', 'QU', '']) assert.notEqual(validateBinding(b, '1.0'), undefined, b);
    for (const b of ['U', 'T', 'S', 'N', 'UT', 'UTSN', 'NU']) assert.equal(validateBinding(b, '1.1'), undefined, b);
    for (const b of ['UQ', 'M', 'H', 'UU', '', 'u']) assert.notEqual(validateBinding(b, '1.1'), undefined, b);
    for (const b of ['M', 'H', 'UMH']) assert.equal(validateBinding(b, '1.2'), undefined, b);
    assert.equal((parseRegisterQuery(['ep=a', 'b=UQS'], bounds) as { queueMode: boolean }).queueMode, true);
    assert.equal((parseRegisterQuery(['ep=a', 'b=US'], bounds) as { queueMode: boolean }).queueMode, false);
  });

  test('Update parameters', () => {
    assert.deepEqual(parseUpdateQuery([], '1.0', bounds), {});
    assert.deepEqual(parseUpdateQuery(['lt=5', 'b=UQ', 'sms=1', 'ep=ignored'], '1.0', bounds), { lifetime: 5, binding: 'UQ', sms: '1' });
    assert.ok(parseUpdateQuery(['b=UQ'], '1.1', bounds) instanceof RegistrationRejection);
    assert.ok(parseUpdateQuery(['lt=0'], '1.1', bounds) instanceof RegistrationRejection);
  });
});

describe('compact object list', () => {
  test('round trip, merged and sorted', () => {
    const s = compactObjects([
      { objectId: 3303, instances: [1, 0] },
      { objectId: 1, version: '1.1', instances: [0] },
      { objectId: 3, instances: [0] },
      { objectId: 5, instances: [] },
      { objectId: 3303, instances: [2] },
    ]);
    assert.equal(s, '1@1.1:0 3:0 5 3303:0,1,2');
    assert.deepEqual(registrationObjects({ objectLinks: s }), {
      1: { version: '1.1', instances: [0] },
      3: { instances: [0] },
      5: { instances: [] },
      3303: { instances: [0, 1, 2] },
    });
    assert.deepEqual(registrationObjects({ objectLinks: '' }), {});
  });

  test('lists already in order give the same text as shuffled ones (random lists)', () => {
    let seed = 9;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000) * n);
    for (let k = 0; k < 2000; k++) {
      const ids = [...new Set(Array.from({ length: rnd(6) }, () => rnd(4000)))].sort((a, b) => a - b);
      const objects = ids.map((objectId) => {
        const o: { objectId: number; version?: string; instances: number[] } = {
          objectId, instances: [...new Set(Array.from({ length: rnd(4) }, () => rnd(10)))].sort((a, b) => a - b),
        };
        if (rnd(3) === 0) o.version = `1.${rnd(3)}`;
        return o;
      });
      // the same objects, reversed and with instances reversed: merged and sorted by the general path
      const shuffled = [...objects].reverse().map((o) => ({ ...o, instances: [...o.instances].reverse() }));
      const expected = compactObjects(shuffled);
      assert.equal(compactObjects(objects), expected);
      const back = registrationObjects({ objectLinks: expected });
      assert.deepEqual(Object.keys(back).map(Number), ids);
    }
  });
});
