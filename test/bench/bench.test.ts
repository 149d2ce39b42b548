/**
 * Smoke test of `npm run bench`: every section runs end to end with tiny counts (server in a forked worker process,
 * load over loopback UDP, DTLS, the peer, the fleet) and the summary table names every figure. Figures are never
 * asserted: on a shared CI machine they mean nothing; what is asserted is that the benchmark still works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../bench/run';

const EXPECTED = [
  'echo', 'coap', 'storm', 'storm.cpu', 'storm.burst', 'read.res', 'read.inst', 'notify', 'mem.heap', 'mem.rss', 'mem.timers',
  'mem.heap.store', 'dtls.hs', 'dtls.read', 'peer', 'storm.vs.peer', 'codec.11542.enc', 'codec.110.dec', 'codec.112.enc',
  'codec.11544.dec', 'fleet.n', 'fleet.heap',
];

test('bench smoke mode: every section runs and the summary table lists every figure', { timeout: 300_000 }, async () => {
  const lines: string[] = [];
  const r = await runBench({ mode: 'smoke', out: (l) => lines.push(l), writeResults: false });
  const text = lines.join('\n');
  assert.deepEqual(r.failures, [], text);
  // Notes are anomalies (devices not stored, failed reads or handshakes...); a smoke run has none.
  assert.deepEqual(r.report.notes, [], text);
  // The million-device run is skipped in smoke mode; the Node-RED flow needs the built nodes (npm test builds them).
  const skipped = r.report.skipped.map((s) => s.reason);
  assert.ok(skipped.includes('1,000,000 registrations: full mode only'), text);
  assert.deepEqual(skipped.filter((s) => !['1,000,000 registrations: full mode only', 'the nodes are not built (npm run build)'].includes(s)), [], text);
  const expected = skipped.includes('the nodes are not built (npm run build)') ? EXPECTED : [...EXPECTED, 'flow.notify'];
  for (const key of expected) {
    const f = r.report.get(key);
    assert.ok(f, `figure ${key} is missing\n${text}`);
    assert.ok(f.values.length > 0 && f.values.every((v) => Number.isFinite(v)), `figure ${key} has no finite value: ${f.values}`);
  }
  const summary = text.slice(text.indexOf('== Summary'));
  assert.ok(summary.length > 0, 'no summary table');
  for (const f of r.report.figures) assert.ok(summary.includes(f.name), `the summary table does not name "${f.name}"`);
});

test('bench rejects an unknown section name', async () => {
  await assert.rejects(runBench({ mode: 'smoke', only: ['nonsense'], out: () => undefined }), /unknown section/);
});
