/**
 * The few Node-RED runtime types the nodes use (kept here so that the package needs no @types for Node-RED).
 */
import { EventEmitter } from 'events';

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;

export interface Node extends EventEmitter {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials?: Record<string, string | undefined>;
  send: SendFn;
  status(status: NodeStatus | Record<string, never>): void;
  log(msg: unknown): void;
  warn(msg: unknown): void;
  error(msg: unknown, m?: NodeMessage): void;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): this;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface HttpRequest { query: Record<string, string | undefined>; params: Record<string, string>; body?: unknown }
export interface HttpResponse { json(v: unknown): void; status(code: number): HttpResponse; send(v?: unknown): void }
type Handler = (req: HttpRequest, res: HttpResponse, next?: () => void) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: object, config: NodeDef): void;
    registerType(type: string, ctor: Function, opts?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: object }): void;
    getNode(id: string): Node | null;
    eachNode?(cb: (n: NodeDef) => void): void;
  };
  settings: { userDir?: string; [key: string]: unknown };
  httpAdmin: {
    get(path: string, ...handlers: Handler[]): void;
    post(path: string, ...handlers: Handler[]): void;
  };
  auth: { needsPermission(permission: string): Handler };
  comms?: { publish(topic: string, data: unknown, retain?: boolean): void };
  log: { info(m: unknown): void; warn(m: unknown): void; error(m: unknown): void; debug?(m: unknown): void };
  util: {
    evaluateNodeProperty(value: unknown, type: string, node: Node, msg: NodeMessage, cb?: (err: Error | null, result: unknown) => void): unknown;
    cloneMessage<T extends NodeMessage>(msg: T): T;
  };
  _(key: string, subs?: Record<string, unknown>): string;
}
