/**
 * Independent peers against the server: node-coap (npm `coap`) as a device for the registration interface and Send,
 * and libcoap's `coap-client-openssl` (Debian libcoap3-bin) doing a Register, when installed.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'child_process';
import * as coap from 'coap';
import { nextEvent, startServer, ServerEnv, until } from '../helpers/server-env';
import { Registration, SendEvent } from '../../src/server';

interface CoapAnswer {
  code: string;
  payload: Buffer;
  locationPath: string[];
}

function coapRequest(agent: coap.Agent, port: number, method: string, pathname: string, query: string, payload?: string, format?: string): Promise<CoapAnswer> {
  return new Promise((resolve, reject) => {
    const req = coap.request({ hostname: '127.0.0.1', port, method: method as 'GET', pathname, query, confirmable: true, agent });
    if (format) req.setOption('Content-Format', format);
    req.on('response', (res: coap.IncomingMessage) => {
      const options = (res as unknown as { options: Array<{ name: string; value: Buffer }> }).options;
      const locationPath = options.filter((o) => o.name === 'Location-Path').map((o) => o.value.toString());
      resolve({ code: res.code, payload: res.payload, locationPath });
    });
    req.on('error', reject);
    req.on('timeout', () => reject(new Error('node-coap request timed out')));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

describe('node-coap as a device', () => {
  let env: ServerEnv;
  let agent: coap.Agent;
  before(async () => {
    env = await startServer();
    agent = new coap.Agent({ type: 'udp4' });
  });
  after(async () => {
    agent.close();
    await env.close();
  });

  test('Register, Update, Send, De-register', async () => {
    const reg = nextEvent<[Registration]>(env.server, 'registered');
    const r = await coapRequest(agent, env.port, 'POST', '/rd', 'ep=nodecoap-1&lt=60&lwm2m=1.1&b=U',
      '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</3303/0>', 'application/link-format');
    assert.equal(r.code, '2.01');
    assert.equal(r.locationPath[0], 'rd');
    const [registration] = await reg;
    assert.equal(registration.endpoint, 'nodecoap-1');
    assert.equal(registration.id, r.locationPath[1]);
    assert.deepEqual(registration.ct, [110]);

    // node-coap's agent closes its socket when idle, so each burst comes from a new port: the Update (which moves the
    // registration to its source address) and the Send (found by source address) go out together on one socket.
    const upd = nextEvent<[Registration, Record<string, unknown>]>(env.server, 'updated');
    const send = nextEvent<[SendEvent]>(env.server, 'send');
    const [u, s] = await Promise.all([
      coapRequest(agent, env.port, 'POST', `/rd/${registration.id}`, 'lt=120'),
      coapRequest(agent, env.port, 'POST', '/dp', '', JSON.stringify([{ bn: '/3303/0/', n: '5700', v: 23.5 }]), 'application/senml+json'),
    ]);
    assert.equal(u.code, '2.04');
    assert.equal((await upd)[1].lifetime, 120);
    assert.equal(s.code, '2.04');
    assert.deepEqual((await send)[0].value, { '/3303/0/5700': 23.5 });

    const bad = await coapRequest(agent, env.port, 'POST', '/rd', 'lt=60', '</3/0>', 'application/link-format');
    assert.equal(bad.code, '4.00');
    assert.match(bad.payload.toString(), /missing endpoint name/);

    const dereg = nextEvent<[Registration]>(env.server, 'deregistered');
    const d = await coapRequest(agent, env.port, 'DELETE', `/rd/${registration.id}`, '');
    assert.equal(d.code, '2.02');
    assert.equal((await dereg)[0].endpoint, 'nodecoap-1');
  });
});

function hasBinary(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('libcoap coap-client-openssl as a device', () => {
  const bin = 'coap-client-openssl';
  const present = hasBinary(bin);

  test('Register with a link-format payload, Update, De-register', { skip: present ? false : `${bin} not installed (apt-get install libcoap3-bin)` }, async () => {
    const env = await startServer();
    const run = (args: string[]): Promise<string> => new Promise((resolve, reject) => {
      execFile(bin, ['-B', '5', ...args], { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(err) : resolve(stdout + stderr)));
    });
    try {
      const reg = nextEvent<[Registration]>(env.server, 'registered');
      await run(['-m', 'post', `coap://127.0.0.1:${env.port}/rd?ep=libcoap-1&lt=60`, '-e', '</1/0>,</3/0>', '-t', '40']);
      const [registration] = await reg;
      assert.equal(registration.endpoint, 'libcoap-1');
      assert.equal(registration.lifetime, 60);
      assert.equal(registration.objectLinks, '1:0 3:0');

      await run(['-m', 'post', `coap://127.0.0.1:${env.port}/rd/${registration.id}?lt=90`]);
      await until(() => env.server.getRegistration('libcoap-1')?.lifetime === 90, 3000, 'lifetime updated');

      const out = await run(['-m', 'post', `coap://127.0.0.1:${env.port}/rd?lt=60`, '-e', '</3/0>', '-t', '40']);
      // libcoap prints an error answer's code and diagnostic payload
      assert.match(out, /4\.00 missing endpoint name/);

      await run(['-m', 'delete', `coap://127.0.0.1:${env.port}/rd/${registration.id}`]);
      await until(() => env.server.getRegistration('libcoap-1') === undefined, 3000, 'deregistered');
    } finally {
      await env.close();
    }
  });
});
