/**
 * Helpers shared by the flow nodes: where endpoint and path come from, how errors read, what status to show.
 * Nodes stay thin: protocol logic lives in src/.
 */
import { Lwm2mPath } from '../../src/model/path';
import { Lwm2mError } from '../../src/errors';
import { Node, NodeMessage, NodeStatus } from './red';

/** Thrown for messages a node cannot act on (no endpoint, bad path, bad payload); goes to done(err). */
export class FlowInputError extends Lwm2mError {
  constructor(message: string) {
    super('FLOW_INPUT', message);
  }
}

/** The endpoint: the node's setting wins, else `msg.endpoint`. */
export function endpointOf(configured: unknown, msg: NodeMessage): string {
  const fromNode = typeof configured === 'string' ? configured.trim() : '';
  const ep = fromNode || (typeof msg.endpoint === 'string' ? msg.endpoint.trim() : '');
  if (!ep) throw new FlowInputError('no endpoint: set one in the node or send msg.endpoint');
  return ep;
}

/** The LwM2M path: the node's setting wins, else `msg.topic`. Validated. */
export function pathOf(configured: unknown, msg: NodeMessage, required = true): Lwm2mPath | undefined {
  const fromNode = typeof configured === 'string' ? configured.trim() : '';
  const raw = fromNode || (typeof msg.topic === 'string' ? msg.topic.trim() : '');
  if (!raw) {
    if (!required) return undefined;
    throw new FlowInputError('no path: set one in the node or send msg.topic as /object/instance/resource, e.g. /3/0/0');
  }
  try {
    return Lwm2mPath.parse(raw);
  } catch (err) {
    throw new FlowInputError((err as Error).message);
  }
}

/** Several paths (composite operations): the node's comma-separated list, else msg.topic / msg.paths as an array or list. */
export function pathsOf(configured: unknown, msg: NodeMessage): Lwm2mPath[] {
  let raw: unknown = typeof configured === 'string' && configured.trim() ? configured : undefined;
  if (raw === undefined) raw = Array.isArray(msg.paths) ? msg.paths : msg.topic;
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [];
  const paths = list.map((p) => String(p).trim()).filter(Boolean);
  if (paths.length === 0) throw new FlowInputError('no paths: set them in the node (comma separated) or send msg.paths as an array');
  return paths.map((p) => {
    try {
      return Lwm2mPath.parse(p);
    } catch (err) {
      throw new FlowInputError((err as Error).message);
    }
  });
}

/** An error as a person reads it, naming endpoint and path when the library did not already. */
export function describeError(err: unknown, endpoint?: string, path?: Lwm2mPath | string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const p = path?.toString() || undefined;
  // Values checked before encoding read "invalid value: /3/0/1: ..."; the prefix adds nothing next to endpoint and path.
  let message = (e as { code?: string }).code === 'ENCODE' ? e.message.replace(/^invalid value: /, '') : e.message;
  const hasEp = !endpoint || message.includes(endpoint);
  const hasPath = !p || message.includes(p);
  if (!hasEp && !hasPath) message = `${endpoint} ${p}: ${message}`;
  else if (!hasEp) message = message.startsWith(`${p}: `) ? `${endpoint} ${message}` : `${endpoint}: ${message}`;
  else if (!hasPath) message = endpoint && message.startsWith(`${endpoint}: `) ? `${endpoint} ${p}: ${message.slice(endpoint.length + 2)}` : `${p}: ${message}`;
  if (message === e.message) return e;
  const wrapped = new Error(message, { cause: e });
  wrapped.name = e.name;
  (wrapped as Error & { code?: string }).code = (e as Error & { code?: string }).code;
  return wrapped;
}

/** True for a bind error because the port is taken (also when the library wrapped the socket's error as its cause). */
export function isAddressInUse(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 'EADDRINUSE') return true;
  }
  return false;
}

/**
 * What a CoAP error answer means to a person, for node status texts: the code itself goes to msg.lwm2m.code and the
 * error message (RFC 7252 section 5.9.2 and 12.1.2 name the codes; LwM2M Core 1.1 section 6 says which operation
 * answers which).
 */
const COAP_STATUS_TEXT: Record<string, string> = {
  '4.00': 'bad request',
  '4.01': 'unauthorized',
  '4.02': 'bad option',
  '4.03': 'access denied',
  '4.04': 'not found',
  '4.05': 'not allowed',
  '4.06': 'format not accepted',
  '4.08': 'incomplete',
  '4.09': 'conflict',
  '4.12': 'precondition failed',
  '4.13': 'too large',
  '4.15': 'format not supported',
  '5.00': 'device error',
  '5.01': 'not implemented',
  '5.02': 'bad gateway',
  '5.03': 'device busy',
  '5.04': 'gateway timeout',
  '5.05': 'no proxying',
};

/** Library error codes (other than CoAP answers) as a person reads them in a node status. */
const ERROR_STATUS_TEXT: Record<string, string> = {
  TIMEOUT: 'timeout',
  QUEUE_TIMEOUT: 'device asleep',
  QUEUE_FULL: 'device asleep, queue full',
  CANCELLED: 'cancelled',
  OBSERVE_REJECTED: 'not observable',
};

/** The CoAP code of an error answer (`4.04`), or undefined when the error is not one. */
export function coapCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('COAP_') ? code.slice(5) : undefined;
}

/** Short text for a node status: "not found" rather than "4.04" or a whole sentence. */
export function shortError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const coap = coapCodeOf(err);
  if (coap) return COAP_STATUS_TEXT[coap] ?? `error ${coap}`;
  if (e && typeof e.code === 'string' && ERROR_STATUS_TEXT[e.code]) return ERROR_STATUS_TEXT[e.code];
  const m = String(e?.message ?? err);
  return m.length > 32 ? m.slice(0, 31) + '…' : m;
}

/** What a node status says after an operation succeeded: "read ok", "created /3303/1", "deleted". */
export function okText(op: string, topic?: string): string {
  switch (op) {
    case 'create': return topic ? `created ${topic}` : 'created';
    case 'delete': return 'deleted';
    default: return `${op} ok`;
  }
}

/**
 * An address as a person reads it: an IPv4 peer of a dual-stack (`::`) socket arrives IPv4-mapped (RFC 4291 section
 * 2.5.5.2, `::ffff:127.0.0.1`) and is shown as the IPv4 address it is. Other addresses are returned unchanged.
 */
export function displayAddress(address: string): string;
export function displayAddress(address: string | undefined): string | undefined;
export function displayAddress(address: string | undefined): string | undefined {
  if (typeof address !== 'string') return address;
  const m = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(address);
  return m ? m[1] : address;
}

export const STATUS = {
  starting: { fill: 'grey', shape: 'ring', text: 'starting' } as NodeStatus,
  error: (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text }),
  busy: (text: string): NodeStatus => ({ fill: 'blue', shape: 'dot', text }),
  ok: (text: string): NodeStatus => ({ fill: 'green', shape: 'dot', text }),
  idle: (text: string): NodeStatus => ({ fill: 'grey', shape: 'dot', text }),
};

/** Clears a node status after a while, so that 'ok' flashes do not stay forever. */
export function flash(node: Node, status: NodeStatus, back: () => NodeStatus, ms = 3000): void {
  node.status(status);
  // One timer per node at most, pushed back by later flashes (a busy node would otherwise hold a timer per message).
  const until = Date.now() + ms;
  const f = flashes.get(node);
  if (f) {
    f.until = until;
    f.back = back;
    return;
  }
  const entry: Flash = { until, back };
  flashes.set(node, entry);
  const fire = () => {
    const left = entry.until - Date.now();
    if (left > 0) {
      setTimeout(fire, left).unref?.();
      return;
    }
    flashes.delete(node);
    node.status(entry.back());
  };
  setTimeout(fire, ms).unref?.();
}

interface Flash { until: number; back: () => NodeStatus }
const flashes = new WeakMap<Node, Flash>();

/**
 * Warnings about device behaviour (failed DTLS handshakes, refused registrations) that a flood could turn into a log
 * flood: the first of each kind in a window is logged, the rest are counted and summed up in the next one logged.
 * No timer: the window is checked when the next warning comes.
 */
export class WarningLimiter {
  private readonly kinds = new Map<string, { windowStart: number; suppressed: number }>();

  constructor(private readonly warn: (text: string) => void, private readonly windowMs = 10_000, private readonly now: () => number = Date.now) {}

  /** Logs `text` unless a warning of `kind` was logged less than the window ago (then only counts it). */
  warnOf(kind: string, text: string): void {
    const t = this.now();
    const k = this.kinds.get(kind);
    if (k && t - k.windowStart < this.windowMs) {
      k.suppressed++;
      return;
    }
    const more = k && k.suppressed > 0 ? ` (and ${k.suppressed} more like it in ${Math.round((t - k.windowStart) / 1000)} s, not logged)` : '';
    if (this.kinds.size > 64 && !k) this.kinds.clear(); // kinds are a fixed set in practice; stay bounded anyway
    this.kinds.set(kind, { windowStart: t, suppressed: 0 });
    this.warn(text + more);
  }
}
