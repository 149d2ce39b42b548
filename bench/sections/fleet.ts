/**
 * Virtual clients (src/client createFleet): how many one process holds registered with our server, and the memory per
 * client. The fleet runs in one worker process, our server in another. Each client has its own UDP socket, so the
 * count is bounded by the fd limit of the process.
 */
import type { FleetResult } from '../host/fleet';
import { fmt, fmtBytes } from '../lib/stats';
import { Ctx, withWorker } from './context';

export async function fleet(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('Virtual clients: one process holding a registered fleet');
  await withWorker({ name: 'our-server' }, async (server) => {
    const { port } = await server.call<{ port: number }>('ours.start');
    await withWorker({ name: 'fleet', maxOldSpaceMb: 4096 }, async (w) => {
      const limit = await w.call<number>('fleet.fdLimit');
      const n = Number.isFinite(limit) ? Math.min(cfg.fleetN, Math.max(10, limit - 1000)) : cfg.fleetN;
      report.line(`${n} clients (createFleet, one UDP socket each; fd limit ${Number.isFinite(limit) ? limit : 'unknown'}), 100 registering at a time`);
      const r = await w.call<FleetResult>('fleet.start', { port, n, concurrency: 100 });
      const { registrations } = await server.call<{ registrations: number }>('ours.count');
      report.line(`${r.registered} clients registered (server holds ${registrations}) in ${(r.elapsedMs / 1000).toFixed(1)} s ` +
        `(${fmt(r.registered / (r.elapsedMs / 1000))}/s), heap ${fmtBytes(r.heapPerClient)}/client, RSS ${fmtBytes(r.rssPerClient)}/client, ` +
        `timers ${r.timersBefore} → ${r.timersAfter}, ${r.errors} client errors${r.firstError ? ` (${r.firstError})` : ''}`);
      report.add({ key: 'fleet.n', name: 'virtual clients registered from one process', unit: '', values: [r.registered], note: `of ${n}; fd-bound` });
      report.add({ key: 'fleet.heap', name: 'heap per virtual client', unit: 'B', values: [r.heapPerClient], format: 'bytes' });
      report.add({ key: 'fleet.rss', name: 'RSS per virtual client', unit: 'B', values: [r.rssPerClient], format: 'bytes' });
    });
    await server.call('ours.stop');
  });
}
