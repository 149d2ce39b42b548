import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WarningLimiter } from '../../nodes/lib/util';

test('WarningLimiter: one warning per kind per window, the suppressed ones counted in the next', () => {
  const logged: string[] = [];
  let now = 1_000_000;
  const w = new WarningLimiter((t) => logged.push(t), 10_000, () => now);
  for (let i = 0; i < 500; i++) w.warnOf('dtls:bad_key', `DTLS handshake ${i} failed: bad_key`);
  w.warnOf('dtls:capacity', 'DTLS handshake failed: capacity');
  assert.deepEqual(logged, ['DTLS handshake 0 failed: bad_key', 'DTLS handshake failed: capacity']);
  now += 10_000;
  w.warnOf('dtls:bad_key', 'DTLS handshake 500 failed: bad_key');
  assert.equal(logged.length, 3);
  assert.match(logged[2], /^DTLS handshake 500 failed: bad_key \(and 499 more like it in 10 s, not logged\)$/);
  now += 10_000;
  w.warnOf('dtls:bad_key', 'again');
  assert.equal(logged[3], 'again', 'nothing suppressed since the last one: no count');
});
