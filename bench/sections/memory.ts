/**
 * 5. Memory per registered device, and whether 1,000,000 fit in one process.
 *
 * Devices are registered through the server's real CoAP endpoint, whose socket is replaced by an in-process one
 * (host/ours.ts InjectedSocket): every device has its own source address like a real fleet (one UDP socket per device
 * is beyond the fd limit of one load process), the Register datagrams go through decoding, deduplication, the server
 * and the store exactly as from UDP. Heap and RSS are measured after a full GC, before and after.
 */
import type { MemoryResult } from '../host/ours';
import { fmt, fmtBytes } from '../lib/stats';
import { Ctx, withWorker } from './context';

function line(r: MemoryResult): string {
  return `${r.registered} registered in ${(r.elapsedMs / 1000).toFixed(1)} s (${fmt(r.registered / (r.elapsedMs / 1000))}/s in-process), ` +
    `heap ${fmtBytes(r.heapUsedBefore)} → ${fmtBytes(r.heapUsedAfter)}, RSS ${fmtBytes(r.rssBefore)} → ${fmtBytes(r.rssAfter)}, ` +
    `timers ${r.timersBefore} → ${r.timersAfter}, dedup entries ${r.dedupEntries}, expiry entries ${r.expiryEntries}`;
}

async function inject(n: number, coap?: Record<string, unknown>): Promise<MemoryResult> {
  // Old space sized for the count (a registration is well under 2 KiB; RSS headroom for the GC).
  const mb = Math.max(1024, Math.ceil((n * 3000) / (1024 * 1024)) + 512);
  return withWorker({ name: 'memory', maxOldSpaceMb: mb }, (w) => w.call<MemoryResult>('ours.memoryInject', { n, coap }));
}

export async function memory(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin(`5. Memory per registration (${fmt(cfg.memoryN)} devices${cfg.millionN ? `, then ${fmt(cfg.millionN)}` : ''})`);
  report.line('registrations injected in-process through the real CoAP endpoint (each device its own address), heap after full GC');
  const heap: number[] = [];
  const rss: number[] = [];
  const timers: number[] = [];
  for (let i = 0; i < cfg.memoryReps; i++) {
    const r = await inject(cfg.memoryN);
    report.line(`  rep ${i + 1}: ${line(r)}`);
    if (r.registered !== cfg.memoryN) report.note(`only ${r.registered} of ${cfg.memoryN} registered`);
    heap.push(r.heapPerRegistration);
    rss.push(r.rssPerRegistration);
    timers.push(r.timersAfter - r.timersBefore);
  }
  const n = fmt(cfg.memoryN);
  report.add({
    key: 'mem.heap', name: `heap per registration at ${n}`, unit: 'B', values: heap, format: 'bytes',
    baselineFixed: { name: 'budget', value: 1024 }, target: { maxValue: 1024, text: '≤ 1 KiB' },
    note: 'includes the transport dedup cache (answers kept for EXCHANGE_LIFETIME, at most 100k)',
  });
  report.add({ key: 'mem.rss', name: `RSS per registration at ${n}`, unit: 'B', values: rss, format: 'bytes' });
  report.add({
    key: 'mem.timers', name: `timers added by ${n} registrations`, unit: '', values: timers,
    target: { maxValue: 0, text: 'no per-device timer' },
  });
  // The same without the dedup cache: what the registration itself costs once the exchange lifetime is over.
  const bare = await inject(cfg.memoryN, { dedupCapacity: 1 });
  report.line(`  without dedup cache: ${line(bare)}`);
  report.add({
    key: 'mem.heap.store', name: `heap per registration at ${n}, dedup cache off`, unit: 'B', values: [bare.heapPerRegistration],
    format: 'bytes', baselineFixed: { name: 'budget', value: 1024 }, target: { maxValue: 1024, text: '≤ 1 KiB' },
  });
  if (cfg.millionN > 0) {
    let r: MemoryResult | undefined;
    try {
      r = await inject(cfg.millionN);
      report.line(`  ${fmt(cfg.millionN)}: ${line(r)}`);
    } catch (err) {
      report.note(`${fmt(cfg.millionN)} registrations failed: ${(err as Error).message}`);
    }
    const fits = r !== undefined && r.registered === cfg.millionN;
    report.add({
      key: 'mem.million', name: `${fmt(cfg.millionN)} registrations in one process`, unit: '', values: [fits ? 1 : 0], format: 'yesno',
      target: { minValue: 1, text: 'fit' },
    });
    if (r) {
      report.add({
        key: 'mem.million.heap', name: `heap per registration at ${fmt(cfg.millionN)}`, unit: 'B', values: [r.heapPerRegistration],
        format: 'bytes', baselineFixed: { name: 'budget', value: 1024 }, target: { maxValue: 1024, text: '≤ 1 KiB' },
      });
      report.add({ key: 'mem.million.rss', name: `RSS at ${fmt(cfg.millionN)} registrations`, unit: 'B', values: [r.rssAfter], format: 'bytes' });
    }
  } else {
    report.skip('1,000,000 registrations: full mode only');
  }
}
