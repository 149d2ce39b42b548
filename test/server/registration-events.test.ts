/**
 * Registration events carry a snapshot (the registration as that Register / Update left it), and no event object, nor
 * the stored registration, holds a key whose value is undefined (an absent `sms` is absent, not `sms: undefined`).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { nextEvent, ServerEnv, startServer, until } from '../helpers/server-env';
import { Registration, RegistrationChanges } from '../../src/server';
import { snapshotRegistration } from '../../src/server/registration';

type Updated = [Registration, RegistrationChanges, RegistrationChanges];

/** Paths of the keys, at any depth, whose value is undefined. */
function undefinedKeys(x: unknown, at = ''): string[] {
  if (typeof x !== 'object' || x === null) return [];
  const out: string[] = [];
  for (const k of Object.keys(x)) {
    const v = (x as Record<string, unknown>)[k];
    if (v === undefined) out.push(at + k);
    else out.push(...undefinedKeys(v, `${at}${k}.`));
  }
  return out;
}

describe('registration events', () => {
  let env: ServerEnv;
  before(async () => { env = await startServer(); });
  after(async () => { await env.close(); });

  test('two Updates in a row: the first event keeps the first state', async () => {
    const d = await env.device('ev-two');
    assert.equal((await d.register(['lt=60', 'lwm2m=1.1'])).code, '2.01');
    const events: Updated[] = [];
    const listener = (...args: Updated): void => { events.push(args); };
    env.server.on('updated', listener);
    try {
      assert.equal((await d.update(['lt=100'])).code, '2.04');
      await until(() => events.length === 1, 2000, 'first updated event');
      assert.equal((await d.update(['lt=200'], '</1/0>,</3/0>,</3303/0>')).code, '2.04');
      await until(() => events.length === 2, 2000, 'second updated event');
      // and two sent back to back, handled before either event goes out
      const both = Promise.all([d.update(['lt=300']), d.update(['lt=400'])]);
      assert.deepEqual((await both).map((r) => r.code), ['2.04', '2.04']);
      await until(() => events.length === 4, 2000, 'four updated events');
    } finally {
      env.server.off('updated', listener);
    }
    const [first, second] = events;
    assert.equal(first[0].lifetime, 100);
    assert.equal(first[0].objectLinks, '1:0 3:0');
    assert.deepEqual(first[1], { lifetime: 100 });
    assert.deepEqual(first[2], { lifetime: 60 });
    assert.equal(second[0].lifetime, 200);
    assert.equal(second[0].objectLinks, '1:0 3:0 3303:0');
    assert.deepEqual(second[1], { lifetime: 200, objectLinks: '1:0 3:0 3303:0' });
    assert.deepEqual(events.slice(2).map((e) => e[0].lifetime).sort(), [300, 400]);
    assert.ok(first[0].expiresAt < second[0].expiresAt);
    assert.equal(env.server.getRegistration('ev-two')!.lifetime, Math.max(...events.slice(2).map((e) => e[0].lifetime)));
  });

  test('changing an event object does not change the store', async () => {
    const d = await env.device('ev-mut');
    const registered = nextEvent<[Registration]>(env.server, 'registered');
    assert.equal((await d.register(['lt=60', 'lwm2m=1.1', 'custom=1'])).code, '2.01');
    const [reg] = await registered;
    reg.lifetime = 1;
    reg.attributes!.custom = 'changed';
    assert.equal(env.server.getRegistration('ev-mut')!.lifetime, 60);
    assert.deepEqual(env.server.getRegistration('ev-mut')!.attributes, { custom: '1' });

    const updated = nextEvent<Updated>(env.server, 'updated');
    assert.equal((await d.update(['lt=90'])).code, '2.04');
    const [u] = await updated;
    u.lifetime = 5;
    u.endpoint = 'someone-else';
    u.attributes!.custom = 'again';
    const stored = env.server.getRegistration('ev-mut')!;
    assert.equal(stored.lifetime, 90);
    assert.equal(stored.endpoint, 'ev-mut');
    assert.deepEqual(stored.attributes, { custom: '1' });
    assert.equal(env.server.store.getByEndpoint('someone-else'), undefined);
  });

  test('no key with an undefined value: registration, snapshots, registered info, changes and previous', async () => {
    const d = await env.device('ev-undef');
    let registered = nextEvent<[Registration, { replaced?: Registration }]>(env.server, 'registered');
    assert.equal((await d.register(['lt=60', 'lwm2m=1.1'])).code, '2.01');
    const [reg, info] = await registered;
    assert.deepEqual(undefinedKeys(reg), []);
    assert.equal('sms' in reg, false);
    assert.equal('identity' in reg, false);
    assert.equal('ct' in reg, false);
    assert.deepEqual(info, {}, 'no replaced: undefined');
    assert.deepEqual(undefinedKeys(env.server.getRegistration('ev-undef')), []);

    // an Update that adds a ct list: it is new, so only in changes
    let updated = nextEvent<Updated>(env.server, 'updated');
    assert.equal((await d.update([], '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>')).code, '2.04');
    let [u, changes, previous] = await updated;
    assert.deepEqual(changes, { ct: [110] });
    assert.deepEqual(previous, {});
    assert.deepEqual(undefinedKeys([u, changes, previous]), []);

    // an Update whose object list no longer has it: gone, so only in previous
    updated = nextEvent<Updated>(env.server, 'updated');
    assert.equal((await d.update([], '</1/0>,</3/0>')).code, '2.04');
    [u, changes, previous] = await updated;
    assert.deepEqual(changes, {});
    assert.deepEqual(previous, { ct: [110] });
    assert.equal('ct' in u, false);
    assert.deepEqual(undefinedKeys([u, changes, previous]), []);
    assert.equal('ct' in env.server.getRegistration('ev-undef')!, false);

    // a second Register of the same endpoint names the one it replaced
    registered = nextEvent<[Registration, { replaced?: Registration }]>(env.server, 'registered');
    const firstId = reg.id;
    assert.equal((await d.register(['lt=60', 'lwm2m=1.1', 'sms=+4912345'])).code, '2.01');
    const [again, info2] = await registered;
    assert.equal(info2.replaced?.id, firstId);
    assert.equal(again.sms, '+4912345');
    assert.deepEqual(undefinedKeys([again, info2]), []);
  });

  test('snapshotRegistration leaves out undefined values and copies attributes', () => {
    const reg = { id: 'a', endpoint: 'e', sms: undefined, attributes: { x: '1' } } as unknown as Registration;
    const s = snapshotRegistration(reg);
    assert.deepEqual(Object.keys(s), ['id', 'endpoint', 'attributes']);
    assert.notEqual(s.attributes, reg.attributes);
    assert.deepEqual(s.attributes, { x: '1' });
  });
});
