/**
 * The server's `nstart` / `maxQueuedPerPeer` options reach its UDP endpoint (RFC 7252 4.7): a flow reading in a loop
 * gets its excess refused with PeerQueueFullError naming the device, not a growing heap.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { PeerQueueFullError } from '../../src/coap/errors';
import { startServer, ServerEnv } from '../helpers/server-env';

const envs: ServerEnv[] = [];
after(async () => {
  for (const e of envs) await e.close();
});

describe('server: requests in flight per device (nstart, maxQueuedPerPeer)', () => {
  test('reads beyond nstart + maxQueuedPerPeer to one device fail with PeerQueueFullError naming the endpoint', async () => {
    const env = await startServer({ nstart: 2, maxQueuedPerPeer: 3 });
    envs.push(env);
    const d = await env.device('nst-1');
    assert.equal((await d.register()).code, '2.01');
    d.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'ACME' });
    const other = await env.device('nst-2');
    assert.equal((await other.register()).code, '2.01');
    other.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'other' });
    const settled = await Promise.allSettled(Array.from({ length: 12 }, () => env.server.read('nst-1', '/3/0/0')));
    // Another device is not affected by the first one's full queue.
    assert.equal((await env.server.read('nst-2', '/3/0/0')).value, 'other');
    assert.deepEqual(settled.map((s) => s.status), [...Array(5).fill('fulfilled'), ...Array(7).fill('rejected')]);
    for (const s of settled.slice(0, 5)) assert.equal((s as PromiseFulfilledResult<{ value: unknown }>).value.value, 'ACME');
    for (const s of settled.slice(5)) {
      const err = (s as PromiseRejectedResult).reason;
      assert.ok(err instanceof PeerQueueFullError, String(err));
      assert.match(err.message, /^nst-1 \/3\/0\/0: too many requests to 127\.0\.0\.1:\d+: 2 outstanding \(nstart\) and 3 queued/);
    }
    assert.equal(d.received.filter((r) => r.path === '/3/0/0').length, 5);
  });
});
