/**
 * A server that takes one value in `ct` (Wakaama's: core/registration.c, prv_parseLinkAttributes compares the root
 * link's ct with single numbers, 11543 / 110 / 112, and the Register fails with 4.00 for anything else). Our client
 * announces `ct="60 110 112 11542 11543"` as 1.1; refused with 4.00, it registers as 1.1 with one format before it
 * would fall back to 1.0 (which loses SenML, Send and the composite operations).
 *
 * The server here is a raw CoAP socket (coap-packet, not our transport) that parses the Register the way Wakaama does.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generate, ParsedPacket } from 'coap-packet';
import { createRawPeer, options, RawPeer } from '../helpers/raw-coap';
import { Lwm2mClient } from '../../src/client';
import { singleFormat } from '../../src/client/session';

interface Seen { method: string; path: string; version?: string; ct?: string; code: string }

/**
 * Wakaama's Register / Update checks, in its order: the payload (the one non-object link must carry rt="oma.lwm2m"
 * and at most one ct, a single value it knows), then the version (1.0 / 1.1, else 4.12).
 */
function wakaamaAnswer(method: string, path: string[], query: string[], payload: string, accepted: readonly string[]): { code: string; ct?: string } {
  let ct: string | undefined;
  let badPayload = false;
  if (payload.length > 0) {
    for (const link of payload.split(',')) {
      const m = /^<([^>]*)>(.*)$/.exec(link.trim());
      if (!m) { badPayload = true; break; }
      if (/^\/\d+(\/\d+)?$/.test(m[1])) continue; // object or instance link
      for (const attr of m[2].split(';').filter(Boolean)) {
        const eq = attr.indexOf('=');
        const key = attr.slice(0, eq);
        const value = attr.slice(eq + 1);
        if (key === 'rt' && value !== '"oma.lwm2m"') badPayload = true;
        if (key === 'ct') {
          ct = value;
          if (!accepted.includes(value)) badPayload = true;
        }
      }
    }
  }
  if (method === 'POST' && path.length === 1) {
    if (badPayload || payload.length === 0) return { code: '4.00', ct };
    const v = query.find((q) => q.startsWith('lwm2m='))?.slice(6);
    if (v !== '1.0' && v !== '1.1') return { code: '4.12', ct };
    return { code: '2.01', ct };
  }
  if (method === 'POST') return { code: badPayload ? '4.00' : '2.04', ct };
  if (method === 'DELETE') return { code: '2.02' };
  return { code: '4.04' };
}

const METHODS: Record<string, string> = { '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE' };

async function wakaamaLikeServer(accepted: readonly string[]): Promise<{ peer: RawPeer; seen: Seen[] }> {
  const peer = await createRawPeer();
  const seen: Seen[] = [];
  peer.onPacket = (p: ParsedPacket, rinfo) => {
    if (!p.confirmable || !p.code.startsWith('0.')) return;
    const method = METHODS[p.code] ?? p.code;
    const path = options(p, 'Uri-Path').map(String);
    const query = options(p, 'Uri-Query').map(String);
    const payload = p.payload.toString('utf8');
    const a = wakaamaAnswer(method, path, query, payload, accepted);
    seen.push({ method, path: '/' + path.join('/'), version: query.find((q) => q.startsWith('lwm2m='))?.slice(6), ct: a.ct, code: a.code });
    const opts = a.code === '2.01' ? [{ name: 'Location-Path', value: Buffer.from('rd') }, { name: 'Location-Path', value: Buffer.from('0') }] : [];
    peer.send(generate({ code: a.code, messageId: p.messageId, token: p.token, ack: true, options: opts }), rinfo.port, rinfo.address);
  };
  return { peer, seen };
}

describe('Register with a server that takes one content format in ct', () => {
  for (const accepted of [['11543', '110'], ['11543', '110', '112']]) {
    test(`Wakaama-like server (ct ${accepted.join(' / ')}): 1.1 with the full list, 4.00, then 1.1 with ct=${singleFormat('1.1')}`, async () => {
      const { peer, seen } = await wakaamaLikeServer(accepted);
      const client = new Lwm2mClient({ endpoint: `single-ct-${accepted.length}`, version: '1.1', serverUri: `coap://127.0.0.1:${peer.port}`, localAddress: '127.0.0.1' });
      const fallbacks: unknown[] = [];
      const ctFallbacks: unknown[] = [];
      client.on('version-fallback', (e) => fallbacks.push(e));
      client.on('ct-fallback', (e) => ctFallbacks.push(e));
      client.on('error', () => undefined);
      try {
        await client.start();
        await client.whenRegistered(5000);
        assert.deepEqual(seen.map((s) => [s.version, s.ct, s.code]), [
          ['1.1', '"60 110 112 11542 11543"', '4.00'],
          ['1.1', '110', '2.01'],
        ]);
        assert.equal(client.servers[0].version, '1.1');
        assert.deepEqual(fallbacks, []);
        assert.equal(ctFallbacks.length, 1);
        assert.deepEqual((ctFallbacks[0] as { to: number[] }).to, [110]);

        // Updates that carry the object list keep to one format
        client.addObject(3303, { 0: { 5700: 20 } });
        const before = seen.length;
        await waitUntil(() => seen.slice(before).some((s) => s.method === 'POST' && s.path === '/rd/0'));
        const upd = seen.slice(before).find((s) => s.path === '/rd/0')!;
        assert.deepEqual([upd.ct, upd.code], ['110', '2.04']);
        assert.equal(client.servers[0].state, 'registered');
      } finally {
        await client.stop();
        await peer.close();
      }
    });
  }

  test('only when one format is refused too does it fall back to 1.0', async () => {
    // a server that takes no ct at all from a 1.1 client
    const { peer, seen } = await wakaamaLikeServer([]);
    const client = new Lwm2mClient({ endpoint: 'no-ct', version: '1.1', serverUri: `coap://127.0.0.1:${peer.port}`, localAddress: '127.0.0.1', retryInitialMs: 60_000 });
    client.on('error', () => undefined);
    try {
      await client.start();
      await waitUntil(() => seen.some((s) => s.version === '1.0'));
      assert.deepEqual(seen.slice(0, 3).map((s) => [s.version, s.ct]), [
        ['1.1', '"60 110 112 11542 11543"'],
        ['1.1', '110'],
        ['1.0', '11543'],
      ]);
    } finally {
      await client.stop();
      await peer.close();
    }
  });

  test('a 1.2 client against it: 4.00 to the list, 4.12 to 1.2, then 1.1 with one format', async () => {
    const { peer, seen } = await wakaamaLikeServer(['11543', '110']);
    const client = new Lwm2mClient({ endpoint: 'single-ct-12', version: '1.2', serverUri: `coap://127.0.0.1:${peer.port}`, localAddress: '127.0.0.1' });
    client.on('error', () => undefined);
    try {
      await client.start();
      await client.whenRegistered(5000);
      assert.deepEqual(seen.map((s) => [s.version, s.ct, s.code]), [
        ['1.2', '"60 110 112 11542 11543 11544"', '4.00'],
        ['1.2', '110', '4.12'],
        ['1.1', '110', '2.01'],
      ]);
      assert.equal(client.servers[0].version, '1.1');
    } finally {
      await client.stop();
      await peer.close();
    }
  });

  test('singleFormat: SenML JSON from 1.1 on, LwM2M JSON in 1.0', () => {
    assert.equal(singleFormat('1.0'), 11543);
    assert.equal(singleFormat('1.1'), 110);
    assert.equal(singleFormat('1.2'), 110);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
