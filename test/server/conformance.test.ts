/**
 * Conformance probes of the server against a raw device (OMA TS Core 1.1 / 1.2 section 6.2 Client Registration
 * interface, 6.3 Device Management interface; RFC 7252, RFC 7641).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, nextEvent } from '../helpers/server-env';
import { generate } from 'coap-packet';

describe('server conformance: registration interface', () => {
  test('Register without lt and b: lifetime 86400, binding U; Location-Path is rd/<id>', async () => {
    const env = await startServer();
    try {
      const dev = await env.device('no-lt');
      const res = await dev.register([]);
      assert.equal(res.code, '2.01');
      assert.equal(res.locationPath.length, 2);
      assert.equal(res.locationPath[0], 'rd');
      const reg = env.server.getRegistration('no-lt')!;
      assert.equal(reg.lifetime, 86400);
      assert.equal(reg.binding, 'U');
      assert.equal(reg.version, '1.0');
      assert.equal(reg.id, res.locationPath[1]);
    } finally { await env.close(); }
  });

  test('alternate root path and ct on the root link', async () => {
    const env = await startServer();
    try {
      const dev = await env.device('alt');
      const res = await dev.register(['lwm2m=1.1'], '</lwm2m>;rt="oma.lwm2m";ct=110,</lwm2m/1/0>,</lwm2m/3/0>,</lwm2m/3303>;ver=1.1');
      assert.equal(res.code, '2.01');
      const reg = env.server.getRegistration('alt')!;
      assert.equal(reg.rootPath, '/lwm2m');
      assert.deepEqual(reg.ct, [110]);
      dev.on('GET', '/lwm2m/3/0/0', { code: '2.05', format: 0, payload: 'ACME' });
      const r = await env.server.read('alt', '/3/0/0');
      assert.equal(r.value, 'ACME');
    } finally { await env.close(); }
  });

  test('De-register of an unknown registration id is 4.04', async () => {
    const env = await startServer();
    try {
      const dev = await env.device('d');
      await dev.register();
      (dev as unknown as { location: string[] }).location = ['rd', 'nope'];
      const res = await dev.deregister();
      assert.equal(res.code, '4.04');
      const up = await dev.update();
      assert.equal(up.code, '4.04');
    } finally { await env.close(); }
  });
});

describe('server conformance: observations', () => {
  // RFC 7641 3.2 / 4.2: a 2.xx without an Observe option ends the observation (the device removed us from its observers):
  // the value is delivered, then the observation is removed and 'observationCancelled' says why.
  test('a 2.05 answer without Observe ends the observation (RFC 7641 3.2)', async () => {
    const env = await startServer();
    try {
      const dev = await env.device('obs-end');
      await dev.register(['lwm2m=1.1']);
      dev.on('GET', '/3/0/9', (req) => ({ code: '2.05', format: 0, payload: '50', observe: req.observe === 0 }));
      const obs = await env.server.observe('obs-end', '/3/0/9');
      const o = dev.observations.get(obs.token) ?? [...dev.observations.values()][0];
      const gotValue = nextEvent(env.server, 'notification');
      // The device's final answer: 2.05 with the value, no Observe option.
      dev.sendPacket(generate({
        code: '2.05', messageId: dev.nextMid(), token: o.token, confirmable: false,
        options: [{ name: 'Content-Format', value: Buffer.alloc(0) }], payload: Buffer.from('49'),
      }));
      await gotValue.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(env.server.observations('obs-end').length, 0);
    } finally { await env.close(); }
  });
});
