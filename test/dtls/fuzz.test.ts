import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentType, DTLS_1_0, DTLS_1_2 } from '../../src/dtls/constants';
import { encodeHandshake } from '../../src/dtls/handshake-messages';
import { encodePlainRecord, writeRecordHeader } from '../../src/dtls/record';
import { client, closeClient, closeServer, delay, echoServer, exchange } from './helpers/dtls-fixtures';
import { LossyRelay, mulberry32 } from './helpers/lossy-relay';
import { clientHello, RawPeer } from './helpers/raw-peer';

const TOTAL = Number(process.env.FUZZ_TOTAL ?? 100_000);

/**
 * Malformed records, seeded: random bytes, valid headers over garbage, lying length fields, bit flips and truncations of
 * real datagrams of a real handshake, random handshake headers, ClientHellos with forged cookies, several records per
 * datagram. Half of them come from the address of an established session (through the relay's upstream socket), half
 * from a stranger. Afterwards the server must be alive and both sessions must still work.
 */
function fuzzer(seed: number, templates: Buffer[]): () => Buffer {
  const rnd = mulberry32(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const bytes = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  const header = (type: number, epoch: number, len: number, declared = len): Buffer => {
    const b = Buffer.alloc(13 + len);
    writeRecordHeader(b, 0, type, rnd() < 0.8 ? DTLS_1_2 : DTLS_1_0, epoch, int(2 ** 32) * 65536 + int(65536), declared & 0xffff);
    b.set(bytes(len), 13);
    return b;
  };
  const one = (): Buffer => {
    switch (int(9)) {
      case 0: return bytes(int(120));
      case 1: return header(20 + int(4), int(3), int(200));
      case 2: { const len = int(100); return header(20 + int(4), int(2), len, len + 1 + int(60000)); }
      case 3: {
        const t = Buffer.from(templates[int(templates.length)]);
        for (let k = 1 + int(3); k > 0; k--) t[int(t.length)] ^= 1 + int(255);
        return t;
      }
      case 4: { const t = templates[int(templates.length)]; return Buffer.from(t.subarray(0, int(t.length))); }
      case 5: {
        // epoch-0 handshake record with a random handshake header and body
        const body = bytes(int(80));
        const hs = encodeHandshake(int(25), int(8), body);
        if (rnd() < 0.5) hs.writeUIntBE(int(2 ** 24), 1, 3);
        if (rnd() < 0.5) hs.writeUIntBE(int(200), 6, 3);
        return encodePlainRecord(ContentType.Handshake, DTLS_1_2, 0, int(1000), hs);
      }
      case 6: return clientHello({ cookie: bytes(int(2) ? 32 : int(256)), suites: [int(65536), 0xc0a8], messageSeq: int(3), recordSeq: int(100) });
      case 7: return header(ContentType.ApplicationData, 1, 16 + int(64));
      default: return Buffer.concat([one(), one()]);
    }
  };
  return one;
}

describe('fuzzing a live server', () => {
  test(`${TOTAL} malformed records: no crash, no effect on established sessions`, async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const errors: unknown[] = [];
    server.on('error', (e) => errors.push(e));
    const closed: unknown[] = [];
    server.on('sessionClosed', (...a) => closed.push(a));
    const templates: Buffer[] = [];
    const relay = await LossyRelay.create({
      target: { address: '127.0.0.1', port: server.address().port },
      filter: (_dir, msg) => { templates.push(Buffer.from(msg)); return true; },
    });
    t.after(() => relay.close());
    const victim = await client(relay.port);
    t.after(() => closeClient(victim));
    const bystander = await client(server.address().port, { identity: 'dev2', cipherSuites: ['TLS_PSK_WITH_AES_128_CBC_SHA256'] });
    t.after(() => closeClient(bystander));
    await exchange(victim, Buffer.from('before'), Buffer.from('dev1:before'));
    assert.ok(templates.length >= 6);

    const stranger = await RawPeer.create(server.address().port);
    stranger.discard = true;
    t.after(() => stranger.close());
    const next = fuzzer(20240601, templates);
    const base = server.stats().datagramsReceived;
    let sent = 0;
    while (server.stats().datagramsReceived - base < TOTAL) {
      for (let i = 0; i < 64; i++, sent++) {
        const d = next();
        if (sent % 2 === 0) relay.injectToServer(d);
        else void stranger.send(d).catch(() => undefined);
      }
      // pace on what the server takes in, so the kernel drops little: wait until everything arrived or nothing moves
      let seen = -1;
      for (let w = 0; w < 100; w++) {
        const now = server.stats().datagramsReceived;
        if (now >= base + sent || now === seen) break;
        seen = now;
        await delay(2);
      }
    }
    const st = server.stats();
    assert.ok(st.datagramsReceived - base >= TOTAL);
    assert.deepEqual(errors, []);
    assert.deepEqual(closed, []);
    assert.equal(st.sessions, 2);
    assert.equal(st.handshakesStarted, 2, 'no forged cookie started a handshake');
    assert.ok(st.recordsDropped > TOTAL / 2, `dropped ${st.recordsDropped}`);
    await exchange(victim, Buffer.from('after'), Buffer.from('dev1:after'));
    await exchange(bystander, Buffer.from('after'), Buffer.from('dev2:after'));
  });
});
