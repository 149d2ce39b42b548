/**
 * Emits what servers do to the embedded client: writes (path and new values), executes (path and arguments), creates,
 * deletes, and registration state changes; and, for the resource paths listed as live reads, asks the flow for the value
 * whenever a server reads (or a notification is due): the flow answers through an lwm2m-client-set node with the same
 * message (it carries msg.lwm2mRead), within the timeout, else the last known value is served.
 */
import { NodeAPI, Node, NodeDef } from '../lib/red';
import { useClient } from '../lib/client-node';
import { Lwm2mPath } from '../../src/model/path';

interface EventsDef extends NodeDef {
  client?: string;
  events?: string[] | string;
  liveReads?: string;
  readTimeout?: string | number;
}

const EVENTS = ['write', 'execute', 'create', 'delete', 'state'] as const;

export = function (RED: NodeAPI) {
  function ClientEventsNode(this: Node, config: EventsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cfg = useClient(RED, node, config.client);
    if (!cfg) return;
    const client = cfg.client;
    const wanted = new Set<string>(Array.isArray(config.events) ? config.events
      : typeof config.events === 'string' && config.events ? config.events.split(',').map((s) => s.trim()) : EVENTS);
    const listeners: Array<[string, (...a: any[]) => void]> = [];
    const plain = (values: Record<string, unknown>) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(values)) out[k] = v instanceof Map ? Object.fromEntries(v) : v;
      return out;
    };

    if (wanted.has('write')) listeners.push(['write', (ev: { path: string; values: Record<string, unknown>; server: string }) => {
      const values = plain(ev.values);
      const keys = Object.keys(values);
      node.send({ topic: 'write', path: ev.path, payload: keys.length === 1 && keys[0] === ev.path ? values[ev.path] : values, lwm2m: { server: ev.server, values } });
    }]);
    if (wanted.has('execute')) listeners.push(['execute', (ev: { path: string; args: unknown[]; raw: string; server: string }) => {
      node.send({ topic: 'execute', path: ev.path, payload: ev.raw, lwm2m: { server: ev.server, args: ev.args } });
    }]);
    for (const e of ['create', 'delete'] as const) {
      if (wanted.has(e)) listeners.push([e, (ev: { path: string; server: string }) => node.send({ topic: e, path: ev.path, payload: ev.path, lwm2m: { server: ev.server } })]);
    }
    if (wanted.has('state')) listeners.push(['state', (s: string, prev: string) => node.send({ topic: 'state', payload: s, lwm2m: { previous: prev } })]);
    for (const [e, l] of listeners) client.on(e, l);

    // Live reads: the flow supplies the value on demand.
    const timeoutMs = (Number(config.readTimeout) > 0 ? Number(config.readTimeout) : 2) * 1000;
    const unhook: Array<() => void> = [];
    let seq = 0;
    const current = (p: Lwm2mPath) => { const v = client.get(p); return v instanceof Map ? Object.fromEntries(v) : v ?? null; };
    for (const raw of String(config.liveReads ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      let path: Lwm2mPath;
      try {
        path = Lwm2mPath.parse(raw);
        unhook.push(client.onRead(path, () => new Promise((resolve) => {
          const id = `${node.id}:${++seq}`;
          const timer = setTimeout(() => { cfg.pendingReads.delete(id); resolve(undefined); }, timeoutMs);
          cfg.pendingReads.set(id, (v) => { clearTimeout(timer); cfg.pendingReads.delete(id); resolve(v); });
          node.send({ topic: 'read', path: path.toString(), payload: current(path), lwm2mRead: id });
        })));
      } catch (err) {
        node.warn(`live read "${raw}": ${(err as Error).message}`);
      }
    }

    node.on('close', (_r: boolean, done: () => void) => {
      for (const [e, l] of listeners) client.removeListener(e, l);
      for (const u of unhook) u();
      done();
    });
  }
  RED.nodes.registerType('lwm2m-client-events', ClientEventsNode as unknown as Function);
};
