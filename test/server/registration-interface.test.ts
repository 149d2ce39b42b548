import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { nextEvent, startServer, ServerEnv, until, sleep } from '../helpers/server-env';
import { registrationObjects, Registration } from '../../src/server';
import { RawDevice } from '../helpers/raw-device';
import { createUdpEndpoint } from '../../src/coap/endpoint';

describe('registration interface (real UDP, raw device)', () => {
  let env: ServerEnv;
  before(async () => {
    env = await startServer();
  });
  after(async () => {
    await env.close();
  });

  test('Register -> 2.01 with Location-Path rd/<id>, registration fields and event', async () => {
    const d = await env.device('reg-1', { links: '</>;rt="oma.lwm2m";ct="60 110 112",</1>;ver=1.1,</1/0>,</3/0>,</3303/0>,</3303/1>,</5>' });
    const ev = nextEvent<[Registration]>(env.server, 'registered');
    const res = await d.register(['lt=120', 'lwm2m=1.1', 'b=U', 'Q', 'sms=+331234']);
    assert.equal(res.code, '2.01');
    assert.equal(res.locationPath.length, 2);
    assert.equal(res.locationPath[0], 'rd');
    const [reg] = await ev;
    assert.equal(reg.id, res.locationPath[1]);
    assert.equal(reg.endpoint, 'reg-1');
    assert.equal(reg.version, '1.1');
    assert.equal(reg.lifetime, 120);
    assert.equal(reg.binding, 'U');
    assert.equal(reg.queueMode, true);
    assert.equal(reg.sms, '+331234');
    assert.equal(reg.address, '127.0.0.1');
    assert.equal(reg.port, d.port);
    assert.equal(reg.family, 'IPv4');
    assert.equal(reg.security, 'nosec');
    assert.equal(reg.secure, false);
    assert.equal(reg.rootPath, '/');
    assert.deepEqual(reg.ct, [60, 110, 112]);
    assert.ok(reg.expiresAt - reg.lastUpdateAt === 120_000);
    assert.deepEqual(registrationObjects(reg), {
      1: { version: '1.1', instances: [0] },
      3: { instances: [0] },
      5: { instances: [] },
      3303: { instances: [0, 1] },
    });
    // the event carries a snapshot of the stored registration (a later Update does not show through it)
    assert.deepEqual(env.server.getRegistration('reg-1'), reg);
    assert.notEqual(env.server.getRegistration('reg-1'), reg);
    // JSON-serialisable as it is
    assert.deepEqual(JSON.parse(JSON.stringify(reg)), { ...reg });
  });

  test('defaults: lt 86400, lwm2m 1.0, binding U', async () => {
    const d = await env.device('reg-defaults');
    const res = await d.register([]);
    assert.equal(res.code, '2.01');
    const reg = env.server.getRegistration('reg-defaults')!;
    assert.equal(reg.lifetime, 86400);
    assert.equal(reg.version, '1.0');
    assert.equal(reg.binding, 'U');
    assert.equal(reg.queueMode, false);
  });

  test('1.0 binding UQ means queue mode; 1.2 accepted; other versions 4.12', async () => {
    const a = await env.device('reg-uq');
    assert.equal((await a.register(['b=UQ'])).code, '2.01');
    assert.equal(env.server.getRegistration('reg-uq')!.queueMode, true);
    const b = await env.device('reg-12');
    assert.equal((await b.register(['lwm2m=1.2', 'b=UT'])).code, '2.01');
    assert.equal(env.server.getRegistration('reg-12')!.version, '1.2');
    for (const v of ['2.0', '1.3', '1', 'x']) {
      const c = await env.device(`reg-v-${v}`);
      const r = await c.register([`lwm2m=${v}`]);
      assert.equal(r.code, '4.12', `lwm2m=${v}`);
      assert.match(r.payload.toString(), /unsupported LwM2M version/);
      assert.equal(env.server.getRegistration(`reg-v-${v}`), undefined);
    }
  });

  test('bad parameters -> 4.00 with a reason', async () => {
    const d = await env.device('reg-bad');
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [['lt=60'], undefined, /missing endpoint name/],
      [['ep=', 'lt=60'], undefined, /empty endpoint name/],
      [['ep=reg-bad', 'lt=0'], undefined, /lt must be a positive integer/],
      [['ep=reg-bad', 'lt=-5'], undefined, /lt must be a positive integer/],
      [['ep=reg-bad', 'lt=abc'], undefined, /lt must be a positive integer/],
      [['ep=reg-bad', 'lt=1.5'], undefined, /lt must be a positive integer/],
      [['ep=reg-bad', 'b=X'], undefined, /binding/],
      [['ep=reg-bad', 'lwm2m=1.1', 'b=UQ'], undefined, /Q is not a binding letter/],
      [['ep=reg-bad', 'lwm2m=1.1', 'b=UZ'], undefined, /unknown binding letter "Z"/],
      [['ep=reg-bad', 'Q'], undefined, /Q parameter does not exist in LwM2M 1.0/],
      [['ep=reg-bad', 'ep=other'], undefined, /given twice/],
      [['ep=reg-bad'], '', /empty payload/],
      [['ep=reg-bad'], '<<<garbage', /bad object list/],
      [['ep=reg-bad'], '</foo/bar>', /no object or object instance link/],
    ];
    for (const [query, payload, reason] of cases) {
      const res = await d.request('POST', ['rd'], { query, payload: payload ?? '</3/0>', format: 40 });
      assert.equal(res.code, '4.00', `${query.join('&')} ${payload ?? ''}`);
      assert.match(res.payload.toString(), reason);
    }
    assert.equal(env.server.getRegistration('reg-bad'), undefined);
  });

  test('non link-format payload -> 4.15; wrong methods -> 4.05; unknown paths -> 4.04', async () => {
    const d = await env.device('reg-methods');
    assert.equal((await d.request('POST', ['rd'], { query: ['ep=reg-methods'], payload: '</3/0>', format: 0 })).code, '4.15');
    assert.equal((await d.request('GET', ['rd'])).code, '4.05');
    assert.equal((await d.request('PUT', ['rd', 'x'])).code, '4.05');
    assert.equal((await d.request('GET', ['dp'])).code, '4.05');
    assert.equal((await d.request('POST', ['bs'])).code, '4.04');
    assert.equal((await d.request('POST', ['rd', 'a', 'b'])).code, '4.04');
  });

  test('Update: lifetime, binding, sms and objects change; address follows the datagram; event lists changes', async () => {
    const d = await env.device('upd-1');
    await d.register(['lt=60', 'b=U']);
    const before = { ...env.server.getRegistration('upd-1')! };
    await sleep(5);
    const ev = nextEvent<[Registration, Record<string, unknown>, Record<string, unknown>]>(env.server, 'updated');
    const res = await d.update(['lt=300', 'b=UQ', 'sms=123'], '</1/0>,</3/0>,</3303/0>');
    assert.equal(res.code, '2.04');
    const [reg, changes, previous] = await ev;
    assert.equal(reg.id, before.id);
    assert.deepEqual(changes, { lifetime: 300, binding: 'UQ', queueMode: true, sms: '123', objectLinks: '1:0 3:0 3303:0' });
    // sms was absent before: it is in changes only, not `previous.sms: undefined`
    assert.deepEqual(previous, { lifetime: 60, binding: 'U', queueMode: false, objectLinks: '1:0 3:0' });
    assert.ok(reg.lastUpdateAt > before.lastUpdateAt);
    assert.equal(reg.expiresAt, reg.lastUpdateAt + 300_000);

    // The device moves (NAT rebinding): an Update from another port moves the registration.
    const moved = await RawDevice.create({ endpoint: 'upd-1', serverPort: env.port });
    try {
      moved.location = d.location;
      const ev2 = nextEvent<[Registration, Record<string, unknown>]>(env.server, 'updated');
      assert.equal((await moved.update()).code, '2.04');
      const [reg2, changes2] = await ev2;
      assert.equal(reg2.port, moved.port);
      assert.deepEqual(changes2, { port: moved.port });
      assert.equal(env.server.getRegistration('upd-1')!.port, moved.port);
    } finally {
      await moved.close();
    }
  });

  test('Update with an unknown id -> 4.04; bad parameters -> 4.00', async () => {
    const d = await env.device('upd-2');
    await d.register(['lt=60']);
    assert.equal((await d.request('POST', ['rd', 'nope'])).code, '4.04');
    assert.equal((await d.update(['lt=x'])).code, '4.00');
    assert.equal((await d.update(['b=T'])).code, '4.00'); // T does not exist in 1.0
    assert.equal((await d.update([], 'garbage<<')).code, '4.00');
    assert.equal(env.server.getRegistration('upd-2')!.lifetime, 60);
  });

  test('De-register -> 2.02, event, gone; again -> 4.04', async () => {
    const d = await env.device('dereg-1');
    await d.register(['lt=60']);
    const ev = nextEvent<[Registration]>(env.server, 'deregistered');
    assert.equal((await d.deregister()).code, '2.02');
    const [reg] = await ev;
    assert.equal(reg.endpoint, 'dereg-1');
    assert.equal(env.server.getRegistration('dereg-1'), undefined);
    assert.equal((await d.deregister()).code, '4.04');
  });

  test('a new Register of the same endpoint replaces the old registration', async () => {
    const d1 = await env.device('repl-1');
    await d1.register(['lt=60']);
    const first = env.server.getRegistration('repl-1')!;
    const d2 = await env.device('repl-1');
    const ev = nextEvent<[Registration, { replaced?: Registration }]>(env.server, 'registered');
    await d2.register(['lt=90']);
    const [reg, info] = await ev;
    assert.notEqual(reg.id, first.id);
    assert.equal(info.replaced?.id, first.id);
    assert.equal(env.server.registrations().filter((r) => r.endpoint === 'repl-1').length, 1);
    assert.equal(env.server.getRegistration('repl-1')!.port, d2.port);
    // the old location is gone
    assert.equal((await d1.update()).code, '4.04');
  });

  test('a retransmitted Register (same message id) creates one registration', async () => {
    const d = await env.device('dup-1');
    let count = 0;
    const onReg = (r: Registration): void => {
      if (r.endpoint === 'dup-1') count++;
    };
    env.server.on('registered', onReg);
    try {
      const mid = d.nextMid();
      const token = Buffer.from('a1b2c3d4', 'hex');
      const buf = d.buildRegister(['ep=dup-1', 'lt=60'], mid, token);
      const [r1, r2] = await Promise.all([d.exchange(buf, mid, token), (async () => {
        await sleep(20);
        return d.exchange(buf, mid, token);
      })()]);
      assert.equal(r1.code, '2.01');
      assert.equal(r2.code, '2.01');
      assert.deepEqual(r1.locationPath, r2.locationPath);
      await sleep(50);
      assert.equal(count, 1);
      assert.equal(env.server.registrations().filter((r) => r.endpoint === 'dup-1').length, 1);
    } finally {
      env.server.off('registered', onReg);
    }
  });
});

describe('lifetime expiry', () => {
  test('a registration is removed after lifetime + grace; an Update extends it', async () => {
    const env = await startServer({ expiryGraceMs: 100 });
    try {
      const a = await env.device('exp-a');
      const b = await env.device('exp-b');
      await a.register(['lt=1']);
      await b.register(['lt=1']);
      const expired: string[] = [];
      env.server.on('expired', (r) => expired.push(r.endpoint));
      await sleep(700);
      assert.equal((await b.update(['lt=1'])).code, '2.04');
      await until(() => expired.includes('exp-a'), 3000, 'exp-a expired');
      assert.equal(env.server.getRegistration('exp-a'), undefined);
      assert.ok(env.server.getRegistration('exp-b'), 'updated registration still there');
      await until(() => expired.includes('exp-b'), 3000, 'exp-b expired');
      assert.equal(env.server.stats().registrations, 0);
      // an Update after expiry: 4.04, the device must register again
      assert.equal((await a.update()).code, '4.04');
    } finally {
      await env.close();
    }
  });

  test('minLifetime / maxLifetime bound lt', async () => {
    const env = await startServer({ minLifetime: 30, maxLifetime: 3600 });
    try {
      const d = await env.device('bounds');
      assert.equal((await d.register(['lt=10'])).code, '4.00');
      assert.equal((await d.register(['lt=7200'])).code, '4.00');
      assert.equal((await d.register(['lt=30'])).code, '2.01');
    } finally {
      await env.close();
    }
  });
});

describe('several endpoints', () => {
  test('a device is answered through the endpoint it registered on', async () => {
    const extra = await createUdpEndpoint({ address: '127.0.0.1', port: 0, ackTimeoutMs: 200, maxRetransmit: 1 });
    const env = await startServer({ endpoints: [extra] });
    try {
      assert.deepEqual(env.server.endpoints().map((e) => [e.name, e.secure]), [['coap', false], ['coap2', false]]);
      const d = await RawDevice.create({ endpoint: 'multi-1', serverPort: extra.address().port });
      try {
        d.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'via extra' });
        assert.equal((await d.register(['lt=60'])).code, '2.01');
        assert.equal(env.server.getRegistration('multi-1')!.transport, 'coap2');
        assert.equal((await env.server.read('multi-1', '/3/0/0', { format: 0 })).value, 'via extra');
        assert.equal(d.received[0].from.port, extra.address().port, 'sent from the endpoint the device registered on');
      } finally {
        await d.close();
      }
    } finally {
      await env.close();
    }
  });
});

describe('IPv6', () => {
  test('register and read over ::1', async (t) => {
    let env: ServerEnv;
    try {
      env = await startServer({ address: '::1' });
    } catch (err) {
      t.skip(`no IPv6 loopback: ${(err as Error).message}`);
      return;
    }
    try {
      const d = await env.device('v6-dev');
      d.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'Open Mobile Alliance' });
      assert.equal((await d.register(['lt=60'])).code, '2.01');
      const reg = env.server.getRegistration('v6-dev')!;
      assert.equal(reg.family, 'IPv6');
      assert.equal(reg.address, '::1');
      const r = await env.server.read('v6-dev', '/3/0/0', { format: 0 });
      assert.equal(r.value, 'Open Mobile Alliance');
    } finally {
      await env.close();
    }
  });
});
