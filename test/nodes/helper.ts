/**
 * Shared setup of the Node-RED node tests: node-red-node-test-helper on the Node-RED devDependency, every node module of
 * the package (the built .js under dist/ when the tests run from dist/test/nodes, the .ts under tsx), server config nodes
 * on loopback and ephemeral ports, devices (our embedded client, or the raw dgram + coap-packet device), and small
 * waiting helpers that never hang: each has a timeout.
 */
import * as dgram from 'dgram';
import { EventEmitter } from 'events';
import { Lwm2mClient, Lwm2mClientOptions } from '../../src/client';
import { RawDevice } from '../helpers/raw-device';
import type { ServerNode } from '../../nodes/lib/server-node';
import type { ClientNode } from '../../nodes/lib/client-node';
import type { NodeMessage } from '../../nodes/lib/red';

import serverNode from '../../nodes/lwm2m-server/lwm2m-server';
import eventsNode from '../../nodes/lwm2m-events/lwm2m-events';
import readNode from '../../nodes/lwm2m-read/lwm2m-read';
import writeNode from '../../nodes/lwm2m-write/lwm2m-write';
import executeNode from '../../nodes/lwm2m-execute/lwm2m-execute';
import observeNode from '../../nodes/lwm2m-observe/lwm2m-observe';
import requestNode from '../../nodes/lwm2m-request/lwm2m-request';
import clientNode from '../../nodes/lwm2m-client/lwm2m-client';
import clientSetNode from '../../nodes/lwm2m-client-set/lwm2m-client-set';
import clientEventsNode from '../../nodes/lwm2m-client-events/lwm2m-client-events';
import bootstrapNode from '../../nodes/lwm2m-bootstrap/lwm2m-bootstrap';

/** What the tests use of node-red-node-test-helper (it ships no types). */
export interface TestHelper {
  init(runtimePath?: string, settings?: Record<string, unknown>): void;
  /** Settings merged over Node-RED's defaults for the next load (e.g. userDir). */
  settings(userSettings?: Record<string, unknown>): Record<string, unknown>;
  load(nodes: unknown, flow: FlowNode[], credentials?: Record<string, Record<string, string>>): Promise<void>;
  setFlows(flow: FlowNode[], type?: 'full' | 'flows' | 'nodes', credentials?: Record<string, Record<string, string>>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  request(): { get(path: string): { query(q: Record<string, string>): PromiseLike<{ status: number; body: unknown }> } & PromiseLike<{ status: number; body: unknown }> };
}

/** A node as the helper hands it out: a Node-RED node plus whatever our node module put on it. */
export type TestNode = EventEmitter & {
  id: string;
  type: string;
  receive(msg: NodeMessage): void;
  [key: string]: unknown;
};

export type FlowNode = { id: string; type: string; [key: string]: unknown };

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const helper: TestHelper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

/** Every node module of the package, in registration order (config nodes first). */
export const ALL_NODES = [
  serverNode, eventsNode, readNode, writeNode, executeNode, observeNode, requestNode,
  clientNode, clientSetNode, clientEventsNode, bootstrapNode,
];

const CONFIG_TYPES = new Set(['lwm2m-server', 'lwm2m-client', 'tab']);

/** Node-RED takes a node without x/y for a config node: flow nodes get a place on the canvas. */
export function placed(flow: FlowNode[]): FlowNode[] {
  return flow.map((n, i) => (CONFIG_TYPES.has(n.type) || n.x !== undefined ? n : { x: 100 + 10 * i, y: 100 + 20 * i, ...n }));
}

/** Loads a flow with every node type of the package (and the helper's catch/status nodes when the flow has them). */
export function load(flow: FlowNode[], credentials?: Record<string, Record<string, string>>): Promise<void> {
  // Node-RED's catch and status nodes too, so that a later deploy may add them.
  const core = (helper as unknown as { _nodeModules: Record<string, unknown> })._nodeModules;
  return helper.load([...ALL_NODES, core.catch, core.status], placed(flow), credentials ?? {});
}

/** Deploys a changed flow: 'nodes' restarts only the changed nodes (the server keeps running), 'full' everything. */
export async function deploy(flow: FlowNode[], type: 'full' | 'flows' | 'nodes' = 'nodes', credentials?: Record<string, Record<string, string>>): Promise<void> {
  // The helper's own setFlows waits 300 ms for 'flows:started' and listens only after the deploy call: a deploy whose
  // nodes take longer to close (sockets, cancels) fails there. Listen first, wait longer.
  const internals = helper as unknown as {
    _events: EventEmitter;
    _redNodes: { setFlows(flow: FlowNode[], creds: object, type: string): Promise<unknown> };
  };
  let timer: NodeJS.Timeout | undefined;
  const started = new Promise<void>((resolve, reject) => {
    const on = () => { clearTimeout(timer); resolve(); };
    internals._events.once('flows:started', on);
    timer = setTimeout(() => { internals._events.off('flows:started', on); reject(new Error('the flows did not start after the deploy')); }, 15000);
  });
  try {
    await internals._redNodes.setFlows(placed(flow), credentials ?? {}, type);
  } catch (err) {
    clearTimeout(timer);
    throw err;
  }
  await started;
}

/** A server config node on loopback, ephemeral port, a short request timeout (seconds) unless told otherwise. */
export function serverConfig(id = 'srv', extra: Record<string, unknown> = {}): FlowNode {
  return { id, type: 'lwm2m-server', name: 'test server', address: '127.0.0.1', port: 0, requestTimeout: 3, persist: false, ...extra };
}

/** The started server config node (waits until its socket is bound). */
export async function serverNodeOf(id = 'srv'): Promise<ServerNode> {
  const n = helper.getNode(id) as unknown as ServerNode;
  if (!n) throw new Error(`no node ${id} in the flow`);
  await n.ready;
  return n;
}

export function clientNodeOf(id: string): ClientNode {
  const n = helper.getNode(id) as unknown as ClientNode;
  if (!n) throw new Error(`no node ${id} in the flow`);
  return n;
}

let seq = 0;
/** A unique endpoint name for this process. */
export function endpointName(prefix = 'node-test'): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

export const DEVICE_OBJECTS = {
  3303: { 0: { 5700: 21.5, 5701: 'Cel' } },
  3311: { 0: { 5850: true, 5851: 50 }, 1: { 5850: false, 5851: 10 } },
};

/** Our embedded client (src/client) registered with the server on `port`. Stop it with `client.stop()`. */
export async function startDevice(port: number, opts: Partial<Lwm2mClientOptions> = {}): Promise<Lwm2mClient> {
  const client = new Lwm2mClient({
    endpoint: endpointName('dev'),
    serverUri: `coap://127.0.0.1:${port}`,
    localAddress: '127.0.0.1',
    objects: DEVICE_OBJECTS,
    device: { manufacturer: 'Fleetwire', model: 'FW-1', batteryLevel: 87 },
    ...opts,
  });
  client.on('error', () => undefined);
  await client.start();
  await client.whenRegistered(10000);
  return client;
}

/** The raw device (dgram + coap-packet, independent of our transport), registered. */
export async function startRawDevice(port: number, links = '</1/0>,</3/0>,</3303/0>', lifetime = 300): Promise<RawDevice> {
  const dev = await RawDevice.create({ endpoint: endpointName('raw'), serverPort: port, links });
  const res = await dev.register([`lt=${lifetime}`, 'lwm2m=1.1', 'b=U']);
  if (res.code !== '2.01') {
    await dev.close();
    throw new Error(`raw device registration answered ${res.code}`);
  }
  return dev;
}

/**
 * The next `count` messages a node sends (collected on a helper node wired to it), or a rejection after `timeoutMs`.
 * `match` filters the messages that count.
 */
export function messages(node: TestNode, count: number, match: (m: NodeMessage) => boolean = () => true, timeoutMs = 8000): Promise<NodeMessage[]> {
  return new Promise((resolve, reject) => {
    const got: NodeMessage[] = [];
    const on = (msg: NodeMessage) => {
      if (!match(msg)) return;
      got.push(msg);
      if (got.length >= count) {
        clearTimeout(timer);
        node.removeListener('input', on);
        resolve(got);
      }
    };
    const timer = setTimeout(() => {
      node.removeListener('input', on);
      reject(new Error(`timed out waiting for ${count} message(s) on ${node.id} (got ${got.length})`));
    }, timeoutMs);
    node.on('input', on);
  });
}

export async function nextMessage(node: TestNode, match?: (m: NodeMessage) => boolean, timeoutMs?: number): Promise<NodeMessage> {
  return (await messages(node, 1, match, timeoutMs))[0];
}

/** Collects every message a node sends, until `stop()`. */
export function collect(node: TestNode): { list: NodeMessage[]; stop(): void } {
  const list: NodeMessage[] = [];
  const on = (m: NodeMessage) => list.push(m);
  node.on('input', on);
  return { list, stop: () => node.removeListener('input', on) };
}

/** An error the node reported with node.error (done(err) ends there), as the helper's `call:error` spy sees it. */
export interface ReportedError { error: Error; msg?: NodeMessage }

export function nextError(node: TestNode, timeoutMs = 8000): Promise<ReportedError> {
  return new Promise((resolve, reject) => {
    const on = (call: { args: unknown[] }) => {
      clearTimeout(timer);
      const [e, msg] = call.args;
      resolve({ error: e instanceof Error ? e : new Error(String(e)), msg: msg as NodeMessage | undefined });
    };
    const timer = setTimeout(() => {
      node.removeListener('call:error', on);
      reject(new Error(`timed out waiting for an error on ${node.id}`));
    }, timeoutMs);
    node.once('call:error', on);
  });
}

/** The next status a node shows that satisfies `match`. */
export function nextStatus(node: TestNode, match: (s: { fill?: string; shape?: string; text?: string }) => boolean, timeoutMs = 8000): Promise<{ fill?: string; shape?: string; text?: string }> {
  return new Promise((resolve, reject) => {
    const on = (call: { args: unknown[] }) => {
      const s = (call.args[0] ?? {}) as { fill?: string; shape?: string; text?: string };
      if (!match(s)) return;
      clearTimeout(timer);
      node.removeListener('call:status', on);
      resolve(s);
    };
    const timer = setTimeout(() => {
      node.removeListener('call:status', on);
      reject(new Error(`timed out waiting for a status on ${node.id}`));
    }, timeoutMs);
    node.on('call:status', on);
  });
}

/** Messages a catch node wired to `helperId` receives: each carries msg.error = {message, source}. */
export function caught(node: TestNode, timeoutMs = 8000): Promise<NodeMessage & { error: { message: string; source: { id: string; type: string } } }> {
  return nextMessage(node, undefined, timeoutMs) as Promise<NodeMessage & { error: { message: string; source: { id: string; type: string } } }>;
}

/** Polls `cond` until true, else throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A UDP port that is free on 127.0.0.1 right now (bind port 0, read it, release it). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Binds a UDP socket on 127.0.0.1:port and releases it: resolves true when the port was free. */
export async function canBind(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => resolve(true));
  });
  await new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } });
  return ok;
}

/** Closes what a test opened, ignoring what is already closed. */
export async function closeAll(...things: Array<{ stop?(): Promise<void>; close?(): Promise<void> } | undefined>): Promise<void> {
  for (const t of things) {
    if (!t) continue;
    try {
      if (t.stop) await t.stop();
      else if (t.close) await t.close();
    } catch {
      /* already closed */
    }
  }
}

/**
 * Records every call of a Node-RED node method (error, warn, status, log) from any node, from now on, including calls
 * made while nodes are constructed (before a test can reach the node). `restore()` ends it.
 */
export function spyNodes(method: 'error' | 'warn' | 'status' | 'log' | 'send'): { calls: Array<{ id: string; arg: unknown }>; texts(id?: string): string[]; restore(): void } {
  const proto = (helper as unknown as { _NodePrototype: Record<string, unknown> })._NodePrototype;
  const orig = proto[method] as (...a: unknown[]) => unknown;
  const calls: Array<{ id: string; arg: unknown }> = [];
  proto[method] = function (this: { id: string }, ...a: unknown[]) {
    calls.push({ id: this.id, arg: a[0] });
    return orig.apply(this, a);
  };
  return {
    calls,
    texts: (id?: string) => calls.filter((c) => id === undefined || c.id === id).map((c) => {
      const a = c.arg as { text?: unknown; message?: unknown } | string;
      if (typeof a === 'string') return a;
      if (a instanceof Error) return a.message;
      return String(a?.text ?? a?.message ?? JSON.stringify(a));
    }),
    restore: () => { proto[method] = orig; },
  };
}

/** Sends `msg` into `node` and resolves with the next message on `out`, or rejects with the error the node reports. */
export function answer(node: TestNode, out: TestNode, msg: NodeMessage, timeoutMs = 8000): Promise<NodeMessage> {
  return new Promise((resolve, reject) => {
    const onErr = (call: { args: unknown[] }) => {
      cleanup();
      reject(new Error(`${node.id} reported an error: ${String(call.args[0])}`));
    };
    const onMsg = (m: NodeMessage) => { cleanup(); resolve(m); };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no answer from ${node.id} on ${out.id}`)); }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      node.removeListener('call:error', onErr);
      out.removeListener('input', onMsg);
    };
    node.on('call:error', onErr);
    out.on('input', onMsg);
    node.receive(msg);
  });
}
