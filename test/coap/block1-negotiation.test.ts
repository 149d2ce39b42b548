/**
 * Block1 size negotiation with a device that takes only small blocks (RFC 7959 2.9.3: 4.13 Request Entity Too Large
 * with a Block1 option naming the size it can take; 2.3: a 2.31 Continue with a smaller SZX). The device is a raw
 * socket (coap-packet), so what it reassembles is checked byte for byte.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createUdpEndpoint, CreateUdpEndpointOptions, UdpCoapEndpoint } from '../../src/coap/endpoint';
import { createRawPeer, option, RawPeer, uint } from '../helpers/raw-coap';
import { ParsedPacket } from 'coap-packet';

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(opened.map((o) => o.close()));
});

async function endpoint(opts: CreateUdpEndpointOptions = {}): Promise<UdpCoapEndpoint> {
  const ep = await createUdpEndpoint({ address: '127.0.0.1', ackTimeoutMs: 200, ...opts });
  opened.push(ep);
  return ep;
}

function blockValue(num: number, more: boolean, szx: number): Buffer {
  const v = (num << 4) | (more ? 8 : 0) | szx;
  return v === 0 ? Buffer.alloc(0) : v < 256 ? Buffer.from([v]) : Buffer.from([v >> 8, v & 0xff]);
}

function block1Of(p: ParsedPacket): { num: number; more: boolean; szx: number } | undefined {
  const b = option(p, 'Block1');
  if (b === undefined) return undefined;
  const v = uint(b)!;
  return { num: v >> 4, more: (v & 8) !== 0, szx: v & 7 };
}

/**
 * A device that takes blocks of at most 2^(maxSzx+4) bytes: a PUT without Block1 (or with larger blocks) carrying more
 * than that gets 4.13 with Block1 SZX=maxSzx (RFC 7959 2.9.3); blocks are acknowledged with 2.31 (echoing the block,
 * at its size) and the last one with 2.04. Records every request it saw and every body it reassembled.
 */
async function smallBlockDevice(maxSzx: number, continueSzx?: number): Promise<{ dev: RawPeer; seen: ParsedPacket[]; bodies: Buffer[] }> {
  const dev = await createRawPeer();
  opened.push(dev);
  const seen: ParsedPacket[] = [];
  const bodies: Buffer[] = [];
  let parts: Buffer[] = [];
  const max = 1 << (maxSzx + 4);
  dev.onPacket = (p, rinfo) => {
    if (p.code !== '0.03') return;
    seen.push(p);
    const b1 = block1Of(p);
    const answer = (code: string, opts: { name: string; value: Buffer }[] = []) =>
      dev.send({ ack: true, messageId: p.messageId, token: p.token, code, options: opts as never }, rinfo.port, rinfo.address);
    if (b1 === undefined) {
      if (p.payload.length > max) return answer('4.13', [{ name: 'Block1', value: blockValue(0, false, maxSzx) }]);
      bodies.push(p.payload);
      return answer('2.04');
    }
    if (b1.szx > maxSzx) return answer('4.13', [{ name: 'Block1', value: blockValue(0, false, maxSzx) }]);
    if (b1.num === 0) parts = [];
    parts.push(p.payload);
    if (b1.more) {
      // RFC 7959 2.3: a server may ask to go on with smaller blocks in its 2.31.
      return answer('2.31', [{ name: 'Block1', value: blockValue(b1.num, true, continueSzx ?? b1.szx) }]);
    }
    bodies.push(Buffer.concat(parts));
    return answer('2.04', [{ name: 'Block1', value: blockValue(b1.num, false, b1.szx) }]);
  };
  return { dev, seen, bodies };
}

const body = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

describe('Block1 size negotiation (RFC 7959 2.9.3, 2.3)', () => {
  test('a 4.13 with Block1 SZX=0 to a 40-byte write: resent in 16-byte blocks; the next write goes block-wise at once', async () => {
    const { dev, seen, bodies } = await smallBlockDevice(0);
    const ep = await endpoint();
    const to = { address: '127.0.0.1', port: dev.port };
    const first = body(40, 1);
    const res = await ep.request(to, { method: 'PUT', path: '/1/0/1', contentFormat: 42, payload: first });
    assert.equal(res.code, '2.04');
    assert.equal(bodies.length, 1);
    assert.deepEqual(bodies[0], first);
    // The plain PUT, then blocks 0, 1, 2 of 16, 16 and 8 bytes.
    assert.deepEqual(seen.map((p) => block1Of(p) && [block1Of(p)!.num, block1Of(p)!.more, block1Of(p)!.szx]),
      [undefined, [0, true, 0], [1, true, 0], [2, false, 0]]);
    assert.deepEqual(seen.map((p) => p.payload.length), [40, 16, 16, 8]);
    assert.equal(uint(option(seen[1], 'Size1')), 40);

    // The size is remembered for that device: no second 4.13.
    const second = body(33, 9);
    const before = seen.length;
    assert.equal((await ep.request(to, { method: 'PUT', path: '/1/0/1', contentFormat: 42, payload: second })).code, '2.04');
    const again = seen.slice(before);
    assert.deepEqual(again.map((p) => block1Of(p) && [block1Of(p)!.num, block1Of(p)!.szx]), [[0, 0], [1, 0], [2, 0]]);
    assert.deepEqual(bodies[1], second);
    // A body that fits in one of its blocks still goes plain.
    assert.equal((await ep.request(to, { method: 'PUT', path: '/1/0/1', payload: body(10, 3) })).code, '2.04');
    assert.equal(block1Of(seen[seen.length - 1]), undefined);
    assert.equal(ep.stats().pendingRequests, 0);
  });

  test('a 4.13 with a Block1 size the body already fits in is the answer (nothing resent)', async () => {
    const dev = await createRawPeer();
    opened.push(dev);
    let puts = 0;
    dev.onPacket = (p, rinfo) => {
      if (p.code !== '0.03') return;
      puts++;
      dev.send({ ack: true, messageId: p.messageId, token: p.token, code: '4.13', options: [{ name: 'Block1', value: blockValue(0, false, 2) }] }, rinfo.port);
    };
    const ep = await endpoint();
    const res = await ep.request({ address: '127.0.0.1', port: dev.port }, { method: 'PUT', path: '/1/0/1', payload: body(40, 0) });
    assert.equal(res.code, '4.13');
    assert.equal(puts, 1);
  });

  test('a block-wise write: 4.13 on block 0 restarts smaller, a smaller SZX in 2.31 continues smaller; both remembered', async () => {
    // Device takes 64-byte blocks; our endpoint starts with 256.
    const { dev, seen, bodies } = await smallBlockDevice(2);
    const ep = await endpoint({ blockSize: 256 });
    const to = { address: '127.0.0.1', port: dev.port };
    const data = body(300, 5);
    assert.equal((await ep.request(to, { method: 'PUT', path: '/5/0/0', payload: data })).code, '2.04');
    assert.deepEqual(bodies[0], data);
    assert.deepEqual(seen.map((p) => [block1Of(p)!.num, block1Of(p)!.szx]), [[0, 4], [0, 2], [1, 2], [2, 2], [3, 2], [4, 2]]);

    // A device that takes 256 at block 0 but asks for 32 in its 2.31: later blocks are 32 bytes, numbered by bytes sent.
    const other = await smallBlockDevice(4, 1);
    const to2 = { address: '127.0.0.1', port: other.dev.port };
    assert.equal((await ep.request(to2, { method: 'PUT', path: '/5/0/0', payload: data })).code, '2.04');
    assert.deepEqual(other.bodies[0], data);
    assert.deepEqual(other.seen.map((p) => [block1Of(p)!.num, block1Of(p)!.szx, p.payload.length]), [[0, 4, 256], [8, 1, 32], [9, 1, 12]]);
    // Next write to that device starts at 32.
    const n = other.seen.length;
    assert.equal((await ep.request(to2, { method: 'PUT', path: '/5/0/0', payload: body(40, 2) })).code, '2.04');
    assert.deepEqual(other.seen.slice(n).map((p) => [block1Of(p)!.num, block1Of(p)!.szx]), [[0, 1], [1, 1]]);
  });
});
