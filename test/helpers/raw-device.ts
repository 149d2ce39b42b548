/**
 * A test LwM2M device written directly on node:dgram + coap-packet: an independent code path from our CoAP transport
 * and codecs. Payloads are built by hand in the tests (bytes from the specification's examples).
 *
 * It registers / updates / de-registers, answers the server's requests from a routing table of fixed answers, keeps
 * observations (token + sequence) and sends notifications and Send.
 */
import * as dgram from 'dgram';
import { generate, parse, ParsedPacket } from 'coap-packet';

export interface RawRequest {
  method: string;
  /** '/3/0/1' (Uri-Path joined). */
  path: string;
  query: string[];
  contentFormat?: number;
  accept?: number;
  observe?: number;
  payload: Buffer;
  token: Buffer;
  messageId: number;
  confirmable: boolean;
  packet: ParsedPacket;
  /** Where the request came from. */
  from: { address: string; port: number };
}

export interface RawAnswer {
  code: string;
  format?: number;
  payload?: Buffer | string;
  locationPath?: string[];
  /** Add an Observe option (the device accepts the observation; its token is kept for notify()). */
  observe?: boolean;
}

/** A route answer: a fixed answer, a function of the request, or null to ignore the request (no answer at all). */
export type Route = RawAnswer | null | ((req: RawRequest) => RawAnswer | null | Promise<RawAnswer | null>);

export interface RawResponse {
  code: string;
  payload: Buffer;
  locationPath: string[];
  contentFormat?: number;
  token: Buffer;
  messageId: number;
}

export interface RawDeviceOptions {
  endpoint: string;
  serverPort: number;
  serverAddress?: string;
  /** Local address to bind (default 127.0.0.1, or ::1 when the server address is IPv6). */
  address?: string;
  /** Object list sent in Register (default `</1/0>,</3/0>`). */
  links?: string;
}

const OPTION = {
  observe: 6,
  uriPath: 11,
  contentFormat: 12,
  uriQuery: 15,
  accept: 17,
  locationPath: 8,
};

function uint(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from(bytes);
}

function readUint(b: Buffer): number {
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return n;
}

function optionValues(p: ParsedPacket, name: string, num: number): Buffer[] {
  return p.options.filter((o) => o.name === name || o.name === num || o.name === String(num)).map((o) => o.value);
}

const METHODS: Record<string, string> = { '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE', '0.05': 'FETCH', '0.06': 'PATCH', '0.07': 'iPATCH' };

/** What the raw device needs from a socket: node:dgram, or a DTLS client socket (same calls). */
export interface RawSocket {
  send(msg: Buffer, port: number, address: string): void;
  on(event: 'message', listener: (msg: Buffer, rinfo: { address: string; port: number }) => void): unknown;
  close(callback?: () => void): void;
  address(): { address: string; port: number };
}

export class RawDevice {
  readonly endpoint: string;
  readonly socket: RawSocket;
  serverPort: number;
  serverAddress: string;
  links: string;
  /** Location id from the last Register (`rd/<id>`). */
  location: string[] = [];
  /** Every request the server sent us, in order. */
  readonly received: RawRequest[] = [];
  /** Observations the device accepted: token hex -> path. */
  readonly observations = new Map<string, { path: string; token: Buffer; seq: number }>();
  private routes: Array<{ method: string; path: string; route: Route }> = [];
  /**
   * Pending exchanges, by message id (for ACK / RST / piggybacked answers) and by token (separate answers). Several
   * exchanges may share a key (a test retransmits the same message id and token on purpose): each keeps its own
   * waiter, and an arriving answer settles every waiter on its key, so one exchange never overwrites another's.
   */
  private waiting = new Map<number, Set<(p: ParsedPacket) => void>>();
  private byToken = new Map<string, Set<(p: ParsedPacket) => void>>();
  private mid = Math.floor(Math.random() * 30000);
  /** Answers already sent, by message id, so a retransmitted request gets the same answer (RFC 7252 4.5). */
  private answered = new Map<number, Buffer>();
  private closed = false;

  private constructor(opts: RawDeviceOptions, socket: RawSocket) {
    this.endpoint = opts.endpoint;
    this.serverPort = opts.serverPort;
    this.serverAddress = opts.serverAddress ?? '127.0.0.1';
    this.links = opts.links ?? '</1/0>,</3/0>';
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
  }

  static async create(opts: RawDeviceOptions): Promise<RawDevice> {
    const serverAddress = opts.serverAddress ?? '127.0.0.1';
    const v6 = serverAddress.includes(':');
    const socket = dgram.createSocket(v6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, opts.address ?? (v6 ? '::1' : '127.0.0.1'), () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RawDevice({ ...opts, serverAddress }, socket);
  }

  /** A raw device on a socket made elsewhere (e.g. a DTLS client socket connected to the server). */
  static onSocket(opts: RawDeviceOptions, socket: RawSocket): RawDevice {
    return new RawDevice(opts, socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Answers `method path` (exact path, or a prefix ending in '*') with `route`. Later routes win. */
  on(method: string, path: string, route: Route): this {
    this.routes.unshift({ method, path, route });
    return this;
  }

  nextMid(): number {
    this.mid = (this.mid + 1) & 0xffff;
    return this.mid;
  }

  /** Sends a raw packet to the server. */
  sendPacket(buf: Buffer): void {
    if (!this.closed) this.socket.send(buf, this.serverPort, this.serverAddress);
  }

  /**
   * Sends a confirmable request and waits for its answer (piggybacked, or separate after an empty ACK).
   */
  request(method: string, path: string[], opts: { query?: string[]; payload?: Buffer | string; format?: number; messageId?: number; token?: Buffer; confirmable?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const messageId = opts.messageId ?? this.nextMid();
    const token = opts.token ?? Buffer.from([Math.random() * 256, Math.random() * 256, Math.random() * 256, Math.random() * 256].map(Math.floor));
    const options: Array<{ name: number | string; value: Buffer }> = [];
    for (const seg of path) options.push({ name: 'Uri-Path', value: Buffer.from(seg) });
    for (const q of opts.query ?? []) options.push({ name: 'Uri-Query', value: Buffer.from(q) });
    if (opts.format !== undefined) options.push({ name: 'Content-Format', value: uint(opts.format) });
    const payload = opts.payload === undefined ? undefined : Buffer.isBuffer(opts.payload) ? opts.payload : Buffer.from(opts.payload);
    const buf = generate({ code: method, messageId, token, options, payload, confirmable: opts.confirmable !== false });
    return this.exchange(buf, messageId, token, opts.timeoutMs ?? 5000);
  }

  /** Sends an already built request (e.g. twice with the same message id) and waits for the answer. */
  exchange(buf: Buffer, messageId: number, token: Buffer, timeoutMs = 5000): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const key = token.toString('hex');
      const forget = (): void => {
        removeWaiter(this.waiting, messageId, byMid);
        removeWaiter(this.byToken, key, done);
      };
      const timer = setTimeout(() => {
        forget();
        reject(new Error(`raw device ${this.endpoint}: no answer to message ${messageId}`));
      }, timeoutMs);
      const done = (p: ParsedPacket): void => {
        clearTimeout(timer);
        forget();
        resolve({
          code: p.code,
          payload: p.payload,
          locationPath: optionValues(p, 'Location-Path', OPTION.locationPath).map((v) => v.toString()),
          contentFormat: optionValues(p, 'Content-Format', OPTION.contentFormat).map(readUint)[0],
          token: p.token,
          messageId: p.messageId,
        });
      };
      const byMid = (p: ParsedPacket): void => {
        if (p.code === '0.00') return; // empty ACK: a separate response follows
        done(p);
      };
      addWaiter(this.waiting, messageId, byMid);
      addWaiter(this.byToken, key, done);
      this.sendPacket(buf);
    });
  }

  /** Builds a Register request (for duplicate tests). */
  buildRegister(query: string[], messageId: number, token: Buffer): Buffer {
    const options = [{ name: 'Uri-Path', value: Buffer.from('rd') }, { name: 'Content-Format', value: uint(40) }];
    for (const q of query) options.push({ name: 'Uri-Query', value: Buffer.from(q) });
    return generate({ code: 'POST', messageId, token, options, payload: Buffer.from(this.links), confirmable: true });
  }

  async register(query: string[] = ['lt=60'], payload?: string): Promise<RawResponse> {
    const res = await this.request('POST', ['rd'], { query: [`ep=${this.endpoint}`, ...query], payload: payload ?? this.links, format: 40 });
    if (res.code === '2.01') this.location = res.locationPath;
    return res;
  }

  update(query: string[] = [], payload?: string): Promise<RawResponse> {
    return this.request('POST', this.location, { query, payload, format: payload !== undefined ? 40 : undefined });
  }

  deregister(): Promise<RawResponse> {
    return this.request('DELETE', this.location);
  }

  /** Send operation: POST /dp. */
  send(payload: Buffer | string, format: number): Promise<RawResponse> {
    return this.request('POST', ['dp'], { payload, format });
  }

  /**
   * Sends a notification for an observation (by path or token hex): 2.05 with the next Observe sequence number.
   * Resolves 'ack' / 'rst' for a CON, 'sent' for a NON, 'timeout' when nothing comes back.
   */
  notify(pathOrToken: string, payload: Buffer | string, format?: number, opts: { confirmable?: boolean; code?: string; timeoutMs?: number } = {}): Promise<'ack' | 'rst' | 'sent' | 'timeout'> {
    const obs = this.observations.get(pathOrToken) ?? [...this.observations.values()].find((o) => o.path === pathOrToken);
    if (!obs) throw new Error(`raw device ${this.endpoint}: no observation ${pathOrToken}`);
    obs.seq++;
    const messageId = this.nextMid();
    const options: Array<{ name: string; value: Buffer }> = [{ name: 'Observe', value: uint(obs.seq) }];
    if (format !== undefined) options.push({ name: 'Content-Format', value: uint(format) });
    const confirmable = opts.confirmable !== false;
    const buf = generate({
      code: opts.code ?? '2.05', messageId, token: obs.token, options,
      payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), confirmable,
    });
    this.sendPacket(buf);
    if (!confirmable) return Promise.resolve('sent');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        removeWaiter(this.waiting, messageId, onAnswer);
        resolve('timeout');
      }, opts.timeoutMs ?? 3000);
      const onAnswer = (p: ParsedPacket): void => {
        clearTimeout(timer);
        removeWaiter(this.waiting, messageId, onAnswer);
        resolve(p.reset ? 'rst' : 'ack');
      };
      addWaiter(this.waiting, messageId, onAnswer);
    });
  }

  /** Waits until the server sent `count` requests in total (or a predicate matches one). */
  async waitForRequest(match: (r: RawRequest) => boolean, timeoutMs = 5000): Promise<RawRequest> {
    const start = Date.now();
    for (;;) {
      const r = this.received.find(match);
      if (r) return r;
      if (Date.now() - start > timeoutMs) throw new Error(`raw device ${this.endpoint}: expected request did not come`);
      await new Promise((res) => setTimeout(res, 10));
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private route(req: RawRequest): Route | undefined {
    for (const r of this.routes) {
      if (r.method !== req.method && r.method !== '*') continue;
      if (r.path === req.path || (r.path.endsWith('*') && req.path.startsWith(r.path.slice(0, -1)))) return r.route;
    }
    return undefined;
  }

  private onMessage(msg: Buffer, rinfo: { address: string; port: number }): void {
    let p: ParsedPacket;
    try {
      p = parse(msg);
    } catch {
      return;
    }
    if (p.ack || p.reset) {
      settle(this.waiting, p.messageId, p);
      return;
    }
    if (!p.code.startsWith('0.')) {
      // A separate response (CON or NON): ACK it when CON, deliver by token.
      if (p.confirmable) this.socket.send(generate({ code: '0.00', messageId: p.messageId, ack: true }), rinfo.port, rinfo.address);
      settle(this.byToken, p.token.toString('hex'), p);
      return;
    }
    if (p.code === '0.00') {
      // CoAP ping: RST
      if (p.confirmable) this.socket.send(generate({ code: '0.00', messageId: p.messageId, reset: true }), rinfo.port, rinfo.address);
      return;
    }
    void this.onRequest(p, rinfo);
  }

  private async onRequest(p: ParsedPacket, rinfo: { address: string; port: number }): Promise<void> {
    const cached = this.answered.get(p.messageId);
    if (cached) {
      this.socket.send(cached, rinfo.port, rinfo.address);
      return;
    }
    const obsOpt = optionValues(p, 'Observe', OPTION.observe)[0];
    const req: RawRequest = {
      method: METHODS[p.code] ?? p.code,
      path: '/' + optionValues(p, 'Uri-Path', OPTION.uriPath).map((v) => v.toString()).join('/'),
      query: optionValues(p, 'Uri-Query', OPTION.uriQuery).map((v) => v.toString()),
      contentFormat: optionValues(p, 'Content-Format', OPTION.contentFormat).map(readUint)[0],
      accept: optionValues(p, 'Accept', OPTION.accept).map(readUint)[0],
      observe: obsOpt === undefined ? undefined : readUint(obsOpt),
      payload: p.payload,
      token: p.token,
      messageId: p.messageId,
      confirmable: p.confirmable,
      packet: p,
      from: { address: rinfo.address, port: rinfo.port },
    };
    this.received.push(req);
    const route = this.route(req);
    let answer: RawAnswer | null;
    if (route === undefined) answer = { code: '4.04' };
    else if (typeof route === 'function') answer = await route(req);
    else answer = route;
    if (answer === null || this.closed) return; // ignore: the server times out
    const options: Array<{ name: string; value: Buffer }> = [];
    if (answer.observe && req.observe === 0) {
      const key = req.token.toString('hex');
      const o = this.observations.get(key) ?? { path: req.path, token: req.token, seq: 1 };
      this.observations.set(key, o);
      options.push({ name: 'Observe', value: uint(o.seq) });
    }
    if (req.observe === 1) this.observations.delete(req.token.toString('hex'));
    for (const l of answer.locationPath ?? []) options.push({ name: 'Location-Path', value: Buffer.from(l) });
    if (answer.format !== undefined) options.push({ name: 'Content-Format', value: uint(answer.format) });
    const payload = answer.payload === undefined ? undefined : Buffer.isBuffer(answer.payload) ? answer.payload : Buffer.from(answer.payload);
    const buf = generate({
      code: answer.code, messageId: p.confirmable ? p.messageId : this.nextMid(), token: p.token, options, payload,
      ack: p.confirmable, confirmable: false,
    });
    if (p.confirmable) {
      this.answered.set(p.messageId, buf);
      if (this.answered.size > 200) this.answered.delete(this.answered.keys().next().value as number);
    }
    this.socket.send(buf, rinfo.port, rinfo.address);
  }
}

function addWaiter<K>(map: Map<K, Set<(p: ParsedPacket) => void>>, key: K, w: (p: ParsedPacket) => void): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(w);
}

function removeWaiter<K>(map: Map<K, Set<(p: ParsedPacket) => void>>, key: K, w: (p: ParsedPacket) => void): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(w);
  if (set.size === 0) map.delete(key);
}

/** Hands a packet to every waiter on its key (a copy of the set: waiters remove themselves as they settle). */
function settle<K>(map: Map<K, Set<(p: ParsedPacket) => void>>, key: K, p: ParsedPacket): void {
  const set = map.get(key);
  if (set) for (const w of [...set]) w(p);
}

/** Hex string -> Buffer, ignoring spaces (spec examples are written as spaced hex). */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}
