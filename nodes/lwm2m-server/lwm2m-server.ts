/**
 * Config node: runs one LwM2M server (CoAP/UDP) and shares it with every flow node that names it, the way Node-RED's
 * MQTT broker node shares one connection: users register and deregister, status fans out to them, and close releases the
 * socket and every timer so that a redeploy never meets EADDRINUSE.
 */
import * as path from 'path';
import { EventEmitter } from 'events';
import { Lwm2mServer, MemoryRegistrationStore, FileRegistrationStore, InMemorySecurityStore } from '../../src/server';
import { ModelRegistry } from '../../src/model/registry';
import { loadDdfFolder } from '../../src/model/ddf';
import { Node, NodeAPI, NodeDef } from '../lib/red';
import { liveServerEvents, liveServers, ServerNode } from '../lib/server-node';
import { parsePskList } from '../lib/psk';
import { parsePreferredFormats } from '../lib/operations';
import { createDtlsServer, DtlsServer } from '../../src/dtls';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import { displayAddress, isAddressInUse, STATUS, WarningLimiter } from '../lib/util';

interface ServerConfig extends NodeDef {
  address?: string;
  port?: string | number;
  minLifetime?: string | number;
  maxLifetime?: string | number;
  queueAwakeTime?: string | number;
  requestTimeout?: string | number;
  modelsDir?: string;
  persist?: boolean;
  dtls?: boolean;
  dtlsPort?: string | number;
  /** `endpoint=format` lines: each device's preferred content format. */
  preferredFormats?: string;
}

function num(v: unknown, dflt: number): number {
  const n = typeof v === 'number' ? v : parseFloat(String(v ?? ''));
  return Number.isFinite(n) && n >= 0 ? n : dflt;
}

export = function (RED: NodeAPI) {
  function Lwm2mServerNode(this: ServerNode, config: ServerConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const users = new Map<string, Node>();
    let state: 'starting' | 'listening' | 'error' | 'closed' = 'starting';
    let lastError = '';

    node.registry = ModelRegistry.withBuiltins();
    if (config.modelsDir && String(config.modelsDir).trim()) {
      const dir = path.resolve(RED.settings.userDir ?? '.', String(config.modelsDir).trim());
      try {
        const result = loadDdfFolder(dir);
        node.registry.addAll(result.objects);
        for (const e of result.errors) node.warn(`object model ${e.message.startsWith(e.file) ? e.message : `${e.file}: ${e.message}`}`);
      } catch (err) {
        node.warn(`cannot load object models from ${dir}: ${(err as Error).message}`);
      }
    }

    const store = config.persist
      ? new FileRegistrationStore(path.join(RED.settings.userDir ?? '.', 'lwm2m', `server-${node.id.replace(/[^\w.-]/g, '_')}.json`))
      : new MemoryRegistrationStore();

    const port = num(config.port, 5683);
    // Devices' PSK credentials, from this node's credentials (never the flow file), the bootstrap node or a flow.
    const security = new InMemorySecurityStore();
    try {
      for (const info of parsePskList(node.credentials?.psk)) security.add(info);
    } catch (err) {
      node.error(`PSK credentials: ${(err as Error).message}`);
    }
    const preferred = parsePreferredFormats(config.preferredFormats);
    for (const e of preferred.errors) node.warn(`preferred formats: ${e}`);
    let dtls: DtlsServer | undefined;
    const dtlsPort = num(config.dtlsPort, 5684);
    const warnings = new WarningLimiter((text) => node.warn(text));
    node.server = new Lwm2mServer({
      address: config.address && String(config.address).trim() ? String(config.address).trim() : undefined,
      port,
      registry: node.registry,
      store,
      minLifetime: num(config.minLifetime, 0) || undefined,
      maxLifetime: num(config.maxLifetime, 0) || undefined,
      queueAwakeMs: num(config.queueAwakeTime, 93) * 1000,
      requestTimeoutMs: num(config.requestTimeout, 10) * 1000,
      // Devices' PSK credentials: from the bootstrap node, or added by a flow; also the DTLS server's key lookup.
      securityStore: security,
      preferredFormats: preferred.formats,
    });

    node.serverStatus = () => {
      if (state === 'error') return STATUS.error(lastError || 'error');
      if (state !== 'listening') return STATUS.starting;
      const n = node.server.registrationCount();
      return { fill: 'green', shape: n > 0 ? 'dot' : 'ring', text: `${n} device${n === 1 ? '' : 's'}` };
    };
    const fanOut = () => {
      const s = node.serverStatus();
      for (const u of users.values()) u.emit('lwm2m-status', s);
    };
    let fanOutPending = false;
    /** Coalesces bursts (a registration storm) into one status update per tick. */
    const scheduleFanOut = () => {
      if (fanOutPending) return;
      fanOutPending = true;
      setImmediate(() => { fanOutPending = false; fanOut(); });
    };
    const events = node.server as unknown as EventEmitter;
    for (const ev of ['registered', 'deregistered', 'expired']) events.on(ev, scheduleFanOut);
    node.server.on('warning', (err: Error) => node.warn(`LwM2M server: ${err.message}`));

    node.register = (user: Node) => {
      users.set(user.id, user);
      user.emit('lwm2m-status', node.serverStatus());
    };
    node.deregister = (user: Node) => {
      users.delete(user.id);
    };

    /** The port being bound, for error texts: the CoAP one, then the DTLS one. */
    let binding = `port ${port}`;
    const startDtls = async () => {
      if (!config.dtls) return;
      binding = `DTLS port ${dtlsPort}`;
      const bind = async (address: string) => {
        const d = createDtlsServer({ address, port: dtlsPort, pskStore: security });
        try {
          await d.whenListening();
          return d;
        } catch (err) {
          d.close();
          throw err;
        }
      };
      const want = config.address && String(config.address).trim() ? String(config.address).trim() : '';
      try {
        dtls = await bind(want || '::');
      } catch (err) {
        if (want) throw err;
        dtls = await bind('0.0.0.0'); // a host without IPv6
      }
      dtls.on('handshakeFailed', (ev: { address: string; port: number; reason?: string; identity?: string }) => {
        // A flood of bad handshakes (or a fleet with a wrong key) must not flood the log: one line per reason per 10 s.
        warnings.warnOf(`dtls:${ev.reason ?? 'unknown'}`, `DTLS handshake from ${displayAddress(ev.address)}:${ev.port}${ev.identity ? ` (identity ${ev.identity})` : ''} failed: ${ev.reason ?? 'unknown'}`);
      });
      node.server.addEndpoint(new UdpCoapEndpoint(dtls), { secure: true, name: 'coaps' });
    };
    node.server.on('securityViolation', (ev: { endpoint?: string; identity?: string; address: string; reason?: string }) => {
      warnings.warnOf(`security:${ev.reason ?? ''}`, `security: ${ev.endpoint ?? '?'} from ${displayAddress(ev.address)}${ev.identity ? ` (identity ${ev.identity})` : ''} refused: ${ev.reason ?? ''}`);
    });

    node.ready = node.server.start().then(startDtls).then(
      () => {
        state = 'listening';
        const a = node.server.address();
        node.log(`LwM2M server listening on udp ${a.address} port ${a.port}${dtls ? `, coaps (DTLS PSK) port ${dtls.address().port}` : ''}`);
        fanOut();
      },
      (err: Error) => {
        state = 'error';
        lastError = isAddressInUse(err) ? `${binding} in use` : err.message;
        node.error(`LwM2M server cannot listen on ${binding}: ${err.message}`);
        fanOut();
        throw err;
      },
    );
    node.ready.catch(() => undefined);
    liveServers.set(node.id, node);
    liveServerEvents.emit('added', node);

    node.on('close', (_removed: boolean, done: () => void) => {
      state = 'closed';
      liveServers.delete(node.id);
      liveServerEvents.emit('removed', node);
      node.server.removeAllListeners();
      // A redeploy right after a deploy may find the sockets still being bound: close once that settled.
      node.ready.catch(() => undefined).then(() => node.server.close()).then(done, (err: Error) => {
        node.warn(`closing LwM2M server: ${err.message}`);
        done();
      });
    });
  }

  let builtins: ModelRegistry | undefined;
  RED.nodes.registerType('lwm2m-server', Lwm2mServerNode as unknown as Function, {
    credentials: { psk: { type: 'password' } },
  });

  // Editor support: object/resource suggestions for path fields, from the built-in models and the server's DDF folder.
  RED.httpAdmin.get('/lwm2m/paths', RED.auth.needsPermission('lwm2m-server.read'), (req, res) => {
    const server = req.query.server ? liveServers.get(req.query.server) : undefined;
    const registry = server?.registry ?? (builtins ??= ModelRegistry.withBuiltins());
    res.json(registry.pathSuggestions());
  });
};
