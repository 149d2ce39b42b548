/**
 * The Register's `lwm2m` parameter (Core 1.1 6.2.1, "LwM2M Version"): major.minor, and the same with a patch level
 * (`1.0.2`, `1.1.1`: what some npm clients send) taken as its major.minor. Other values are refused with 4.12.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServerEnv, startServer } from '../helpers/server-env';
import { enablerVersion, parseRegisterQuery, RegistrationRejection } from '../../src/server/registration';

const bounds = { minLifetime: 1, maxLifetime: 0xffffffff, defaultLifetime: 86400 };

describe('Register: lwm2m version with a patch level', () => {
  let env: ServerEnv;
  before(async () => { env = await startServer(); });
  after(async () => { await env.close(); });

  for (const [sent, version, binding] of [
    ['1.0.0', '1.0', 'UQ'], ['1.0.2', '1.0', 'U'], ['1.1.1', '1.1', 'UT'], ['1.1.0', '1.1', 'U'], ['1.2.1', '1.2', 'U'],
  ] as const) {
    test(`lwm2m=${sent} registers as LwM2M ${version} (binding rules of ${version})`, async () => {
      const d = await env.device(`ver-${sent}`);
      const r = await d.register(['lt=60', `lwm2m=${sent}`, `b=${binding}`]);
      assert.equal(r.code, '2.01', r.payload.toString());
      const reg = env.server.getRegistration(`ver-${sent}`)!;
      assert.equal(reg.version, version);
      assert.equal(reg.binding, binding);
      // 1.0 binding UQ is queue mode; in 1.1 "Q" is not a binding letter
      assert.equal(reg.queueMode, binding === 'UQ');
      // the patch level is no unknown parameter
      assert.equal(reg.attributes, undefined);
    });
  }

  test('a 1.0.x device is held to the 1.0 rules, a 1.1.x device to the 1.1 rules', async () => {
    const a = await env.device('ver-rules-a');
    assert.equal((await a.register([`lwm2m=1.0.2`, 'b=UT'])).code, '4.00');
    const b = await env.device('ver-rules-b');
    assert.equal((await b.register([`lwm2m=1.1.1`, 'b=UQ'])).code, '4.00');
  });

  test('other versions are still refused with 4.12 Precondition Failed', async () => {
    for (const v of ['1.1.1.1', '1.0.2.0', '2.0', '2.0.0', '1.3', '1.3.0', '1.01', '1.', '1.1.', '.1.1', '1.1.x', '1.1.1234', '1', 'x', '']) {
      const d = await env.device(`ver-bad-${v}`);
      const r = await d.register([`lwm2m=${v}`]);
      assert.equal(r.code, '4.12', `lwm2m=${v}`);
      assert.match(r.payload.toString(), /unsupported LwM2M version/);
      assert.equal(env.server.getRegistration(`ver-bad-${v}`), undefined);
    }
  });
});

describe('enablerVersion', () => {
  test('major.minor, with or without a patch level', () => {
    assert.equal(enablerVersion('1.0'), '1.0');
    assert.equal(enablerVersion('1.0.0'), '1.0');
    assert.equal(enablerVersion('1.0.2'), '1.0');
    assert.equal(enablerVersion('1.1.1'), '1.1');
    assert.equal(enablerVersion('1.2.2'), '1.2');
    for (const v of ['1.1.1.1', '2.0', '2.0.1', '1.3.0', ' 1.1', '1.1 ', '1,1', '1.1.1a']) assert.equal(enablerVersion(v), undefined, v);
  });

  test('parseRegisterQuery keeps the parsed version, not the sent text', () => {
    assert.deepEqual(parseRegisterQuery(['ep=a', 'lwm2m=1.1.1', 'Q'], bounds), {
      endpoint: 'a', version: '1.1', lifetime: 86400, binding: 'U', queueMode: true,
    });
    const r = parseRegisterQuery(['ep=a', 'lwm2m=1.1.1.1'], bounds);
    assert.ok(r instanceof RegistrationRejection);
    assert.equal(r.code, '4.12');
    assert.match(r.reason, /unsupported LwM2M version "1\.1\.1\.1"/);
  });
});
