/**
 * Runs an LwM2M Bootstrap Server (OMA TS Core 6.1) driven by the flow: the server accounts each device gets come from the
 * node's table, or from the flow (a `request` message per Bootstrap-Request, answered by sending the configuration back
 * into this node). Emits every session's progress: request, step, finished, failed.
 */
import { BootstrapServer } from '../../src/bootstrap/bootstrap-server';
import type { BootstrapConfig } from '../../src/bootstrap/config';
import type { InMemorySecurityStore } from '../../src/server';
import { NodeAPI, Node, NodeDef, NodeMessage, SendFn, DoneFn } from '../lib/red';
import type { ServerNode } from '../lib/server-node';
import { FlowInputError, isAddressInUse, STATUS } from '../lib/util';
import { configFor, parseKeys, TableRow } from '../lib/bootstrap-table';

interface BootstrapDef extends NodeDef {
  address?: string;
  port?: string | number;
  server?: string;
  mode?: string;
  table?: TableRow[];
  deleteFirst?: boolean;
  timeout?: string | number;
}

export = function (RED: NodeAPI) {
  function BootstrapNode(this: Node, config: BootstrapDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const serverNode = config.server ? (RED.nodes.getNode(config.server) as ServerNode | null) : null;
    const flowMode = config.mode === 'flow';
    const timeoutMs = (Number(config.timeout) > 0 ? Number(config.timeout) : 10) * 1000;
    const pending = new Map<string, { resolve: (c: BootstrapConfig | undefined) => void; timer: NodeJS.Timeout }>();
    let seq = 0;

    let keys = new Map<string, string>();
    try {
      keys = parseKeys(node.credentials?.keys);
    } catch (err) {
      node.error(`PSK keys: ${(err as Error).message}`);
    }
    const rows = config.table ?? [];

    const bsPort = config.port === undefined || config.port === '' ? 5685 : Number(config.port);
    const ownServer = serverNode?.server;
    const bs = new BootstrapServer({
      address: config.address && String(config.address).trim() ? String(config.address).trim() : undefined,
      port: bsPort,
      securityStore: ownServer?.securityStore as InMemorySecurityStore | undefined,
      isOwnServer: ownServer ? (uri: string) => {
        const m = /:(\d+)\/?$/.exec(uri);
        const ports = ownServer.endpoints().map((e) => e.address.port);
        return !!m && ports.includes(Number(m[1]));
      } : undefined,
      // The flow has this long to answer a `request` message; then the session fails ("provider did not answer") and
      // the device gets 5.03 Service Unavailable, so it tries again later.
      configTimeoutMs: timeoutMs,
    });

    // Reachable like the server config node's `server` (tests, other nodes): the address once started.
    (node as Node & { bootstrapServer?: BootstrapServer }).bootstrapServer = bs;

    if (!flowMode) {
      bs.setConfigProvider((req) => configFor(req.endpoint, rows, keys, !!config.deleteFirst));
    } else {
      bs.setConfigProvider((req) => new Promise<BootstrapConfig | undefined>((resolve) => {
        const id = `${node.id}:${++seq}`;
        // Only forgets the question: the bootstrap server's own deadline (configTimeoutMs) has failed the session by then.
        const timer = setTimeout(() => { pending.delete(id); resolve(undefined); }, timeoutMs + 1000);
        timer.unref?.();
        pending.set(id, { resolve, timer });
        node.send({ topic: 'request', endpoint: req.endpoint, payload: { ...req }, lwm2mBootstrap: id });
      }));
    }

    const showSessions = () => {
      const n = bs.sessions().length;
      node.status(n > 0 ? STATUS.busy(`${n} bootstrapping`) : STATUS.idle('listening'));
    };
    bs.on('bootstrapRequest', (req: { endpoint: string }) => {
      // In flow mode the `request` message (to be answered) already says it.
      if (!flowMode) node.send({ topic: 'requested', endpoint: req.endpoint, payload: { ...req } });
      showSessions();
    });
    bs.on('step', (ev: { endpoint: string; step: string; path?: string; code?: string }) => {
      node.send({ topic: 'step', endpoint: ev.endpoint, payload: ev });
    });
    bs.on('finished', (ev: { endpoint: string }) => {
      node.send({ topic: 'finished', endpoint: ev.endpoint, payload: ev });
      showSessions();
    });
    bs.on('failed', (ev: { endpoint: string; step?: string; error: Error }) => {
      const payload = { ...ev, error: ev.error?.message ?? String(ev.error) };
      node.send({ topic: 'failed', endpoint: ev.endpoint, payload });
      node.warn(`bootstrap of ${ev.endpoint} failed${ev.step ? ` at ${ev.step}` : ''}: ${payload.error}`);
      showSessions();
    });
    bs.on('warning', (w: unknown) => node.warn(typeof w === 'string' ? w : (w as Error)?.message ?? JSON.stringify(w)));

    node.status(STATUS.starting);
    const started = bs.start().then(() => {
      const a = bs.address();
      node.log(`LwM2M bootstrap server listening on udp ${a.address} port ${a.port}`);
      showSessions();
    }, (err: Error) => {
      node.status(STATUS.error(isAddressInUse(err) ? `port ${bsPort} in use` : err.message));
      node.error(`LwM2M bootstrap server cannot listen: ${err.message}`);
    });

    // The flow's answer to a `request` message: msg.payload is the configuration ({servers: [...]}), or null to refuse.
    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      const id = typeof msg.lwm2mBootstrap === 'string' ? msg.lwm2mBootstrap : undefined;
      const p = id ? pending.get(id) : undefined;
      if (!p) {
        done(new FlowInputError('no Bootstrap-Request waits for this answer: send back the request message (it carries msg.lwm2mBootstrap) within the timeout'));
        return;
      }
      pending.delete(id!);
      clearTimeout(p.timer);
      const cfg = msg.payload;
      if (cfg !== null && cfg !== undefined && (typeof cfg !== 'object' || Array.isArray(cfg))) {
        p.resolve(undefined);
        done(new FlowInputError('the bootstrap configuration must be an object like {"servers": [{"uri": "coap://host:5683", "shortServerId": 1}]}'));
        return;
      }
      p.resolve((cfg ?? undefined) as BootstrapConfig | undefined);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      for (const p of pending.values()) { clearTimeout(p.timer); p.resolve(undefined); }
      pending.clear();
      bs.removeAllListeners();
      // A redeploy right after a deploy may find the socket still being bound: close once that settled.
      started.then(() => bs.close()).then(() => done(), () => done());
    });
  }
  RED.nodes.registerType('lwm2m-bootstrap', BootstrapNode as unknown as Function, {
    credentials: { keys: { type: 'password' } },
  });
};
