/**
 * Hostile input on the registration interface: random query parameters and payloads (seeded, reproducible) get a
 * CoAP answer from the expected set, never a crash, and the server keeps working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-env';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const PIECES = ['ep=', 'lt=', 'lwm2m=', 'b=', 'sms=', 'Q', '=', '1.1', '1.0', '9', '-1', 'U', 'UQ', 'x', '\u00e9', '%00', '', ';', ',', '"'];
const LINK_PIECES = ['</', '>', '3', '0', '/', ';', 'rt="oma.lwm2m"', 'ct=', '"', ',', 'ver=1.1', '<', '65536', '\\', ' ', '\u0000'];

test('random Register / Update / Send requests are answered with a CoAP code; the server keeps working', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20240611);
  console.log(`# fuzz seed ${seed}`);
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const env = await startServer();
  try {
    const d = await env.device('fuzz');
    const allowed = new Set(['2.01', '2.04', '2.02', '4.00', '4.03', '4.04', '4.05', '4.12', '4.15']);
    const codes = new Map<string, number>();
    for (let i = 0; i < 1500; i++) {
      const query: string[] = [];
      const nq = Math.floor(rnd() * 5);
      for (let k = 0; k < nq; k++) query.push(pick(PIECES) + pick(PIECES) + (rnd() < 0.5 ? pick(PIECES) : ''));
      let payload = '';
      const np = Math.floor(rnd() * 12);
      for (let k = 0; k < np; k++) payload += pick(LINK_PIECES);
      const kind = rnd();
      const path = kind < 0.6 ? ['rd'] : kind < 0.8 ? ['rd', pick(['x', '', 'abc'])] : ['dp'];
      const format = rnd() < 0.8 ? 40 : pick([0, 110, 112, 60, 11542, 65535]);
      const res = await d.request(pick(['POST', 'POST', 'PUT', 'DELETE']), path, { query, payload, format });
      assert.ok(allowed.has(res.code), `unexpected ${res.code} for ${path.join('/')}?${query.join('&')} ${JSON.stringify(payload)}`);
      codes.set(res.code, (codes.get(res.code) ?? 0) + 1);
    }
    assert.ok((codes.get('4.00') ?? 0) > 100, 'most random input is refused');
    // still serving
    const ok = await env.device('after-fuzz');
    assert.equal((await ok.register(['lt=60'])).code, '2.01');
  } finally {
    await env.close();
  }
});
