/**
 * Node-RED editor plugin (runtime half): an LwM2M device browser in the editor's sidebar, in the spirit of Leshan's demo
 * page. It follows every deployed `lwm2m-server` config node, serves the admin routes the sidebar calls (routes.ts) and
 * pushes coalesced live updates over RED.comms (topics `lwm2m-sidebar/...`). The editor half is lwm2m-sidebar.html.
 *
 * settings.js (all optional):
 * ```js
 * lwm2m: {
 *   downloadModels: false,   // fetch unknown objects' DDF from the OMA registry, cached in <userDir>/lwm2m/models
 *   modelRegistryUrl: 'https://raw.githubusercontent.com/OpenMobileAlliance/lwm2m-registry/prod/',
 *   sidebar: { maxDevices: 2000, logSize: 100 },  // devices remembered per server, log lines per device
 *   // observations started from the sidebar end this long after the last editor closed their device, unless pinned;
 *   // charts of observed numbers per device, points per chart:
 *   // sidebar: { observeGraceMs: 120000, maxSeries: 20, seriesSize: 120 },
 * }
 * ```
 */
import * as path from 'path';
import type { NodeAPI } from '../lib/red';
import { liveServerEvents, liveServers } from '../lib/server-node';
import { ModelDownloader } from './model-download';
import { registerRoutes } from './routes';
import { SidebarService } from './service';

interface SidebarSettings {
  downloadModels?: boolean;
  modelRegistryUrl?: string;
  sidebar?: {
    maxDevices?: number; logSize?: number; maxValues?: number; flushMs?: number;
    observeGraceMs?: number; maxSeries?: number; seriesSize?: number;
  };
}

type PluginAPI = NodeAPI & { plugins?: { registerPlugin(id: string, def: Record<string, unknown>): void } };

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

export = function (RED: PluginAPI) {
  const raw = (RED.settings as { lwm2m?: unknown }).lwm2m;
  const cfg: SidebarSettings = typeof raw === 'object' && raw !== null ? (raw as SidebarSettings) : {};
  const sb = typeof cfg.sidebar === 'object' && cfg.sidebar !== null ? cfg.sidebar : {};
  const models = new ModelDownloader({
    cacheDir: path.join(RED.settings.userDir ?? '.', 'lwm2m', 'models'),
    enabled: cfg.downloadModels === true,
    baseUrl: typeof cfg.modelRegistryUrl === 'string' && cfg.modelRegistryUrl ? cfg.modelRegistryUrl : undefined,
  });
  const service = new SidebarService({
    servers: () => liveServers.values(),
    // A deployed server is followed at once, so its first Register is in the log.
    serverChanges: liveServerEvents,
    publish: (topic, data) => RED.comms?.publish(topic, data, false),
    models,
    maxDevices: positive(sb.maxDevices),
    logSize: positive(sb.logSize),
    maxValues: positive(sb.maxValues),
    flushMs: positive(sb.flushMs),
    observeGraceMs: positive(sb.observeGraceMs),
    // 0 turns the charts off.
    maxSeries: sb.maxSeries === 0 ? 0 : positive(sb.maxSeries),
    seriesSize: positive(sb.seriesSize),
    warn: (m) => RED.log.warn(m),
  });
  service.start();
  registerRoutes(RED, service);
  RED.plugins?.registerPlugin('lwm2m-sidebar', { type: 'lwm2m-sidebar' });
};
