/**
 * A test device for the bootstrap server, written directly on node:dgram + coap-packet (independent of our CoAP
 * transport, codecs and client). It sends Bootstrap-Request / Bootstrap-Pack-Request and answers the server's requests
 * with a handler; every request it receives is recorded in order. Small decoders for TLV and link-format are
 * hand-written here so tests check payloads without our codecs.
 */
import * as dgram from 'dgram';
import { generate, parse, ParsedPacket } from 'coap-packet';

export interface DevRequest {
  method: string;
  /** '/0/1' (Uri-Path joined; '/' for none). */
  path: string;
  query: string[];
  contentFormat?: number;
  accept?: number;
  payload: Buffer;
  messageId: number;
}

export interface DevAnswer {
  code: string;
  format?: number;
  payload?: Buffer | string;
}

/** Returns the answer, or null to stay silent (the server times out). */
export type DevHandler = (req: DevRequest) => DevAnswer | null | Promise<DevAnswer | null>;

export interface DevResponse {
  code: string;
  payload: Buffer;
  contentFormat?: number;
}

const METHODS: Record<string, string> = { '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE' };

function uint(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from(out);
}

function readUint(b: Buffer): number {
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return n;
}

function opts(p: ParsedPacket, name: string, num: number): Buffer[] {
  return p.options.filter((o) => o.name === name || o.name === num || o.name === String(num)).map((o) => o.value);
}

export class RawBootstrapDevice {
  readonly received: DevRequest[] = [];
  handler: DevHandler = () => ({ code: '4.04' });
  private readonly socket: dgram.Socket;
  private mid = Math.floor(Math.random() * 30000);
  private readonly waiting = new Map<string, (p: ParsedPacket) => void>();
  private readonly answered = new Map<number, Buffer>();
  private closed = false;

  private constructor(readonly endpoint: string, readonly serverPort: number, readonly serverAddress: string, socket: dgram.Socket) {
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
  }

  static async create(endpoint: string, serverPort: number, serverAddress = '127.0.0.1'): Promise<RawBootstrapDevice> {
    const socket = dgram.createSocket(serverAddress.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, serverAddress.includes(':') ? '::1' : '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RawBootstrapDevice(endpoint, serverPort, serverAddress, socket);
  }

  /** Sends a CON request and waits for its answer (piggybacked or separate). */
  request(method: string, path: string[], o: { query?: string[]; accept?: number; timeoutMs?: number } = {}): Promise<DevResponse> {
    this.mid = (this.mid + 1) & 0xffff;
    const messageId = this.mid;
    const token = Buffer.from([1, 2, 3, messageId & 0xff]);
    const options: Array<{ name: string; value: Buffer }> = [];
    for (const s of path) options.push({ name: 'Uri-Path', value: Buffer.from(s) });
    for (const q of o.query ?? []) options.push({ name: 'Uri-Query', value: Buffer.from(q) });
    if (o.accept !== undefined) options.push({ name: 'Accept', value: uint(o.accept) });
    const buf = generate({ code: method, messageId, token, options, confirmable: true });
    return new Promise((resolve, reject) => {
      const key = token.toString('hex');
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`${this.endpoint}: no answer to ${method} /${path.join('/')}`));
      }, o.timeoutMs ?? 5000);
      this.waiting.set(key, (p) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve({ code: p.code, payload: p.payload, contentFormat: opts(p, 'Content-Format', 12).map(readUint)[0] });
      });
      this.socket.send(buf, this.serverPort, this.serverAddress);
    });
  }

  /** Bootstrap-Request: POST /bs?ep=<name>[&pct=...]. */
  bootstrapRequest(extraQuery: string[] = [], timeoutMs?: number): Promise<DevResponse> {
    return this.request('POST', ['bs'], { query: [`ep=${this.endpoint}`, ...extraQuery], timeoutMs });
  }

  /** Bootstrap-Pack-Request (1.2): GET /bspack?ep=<name>. */
  packRequest(accept?: number): Promise<DevResponse> {
    return this.request('GET', ['bspack'], { query: [`ep=${this.endpoint}`], accept });
  }

  async waitFor(match: (r: DevRequest) => boolean, timeoutMs = 5000): Promise<DevRequest> {
    const start = Date.now();
    for (;;) {
      const r = this.received.find(match);
      if (r) return r;
      if (Date.now() - start > timeoutMs) throw new Error(`${this.endpoint}: expected request did not come`);
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let p: ParsedPacket;
    try {
      p = parse(msg);
    } catch {
      return;
    }
    if (p.code === '0.00') return; // empty ACK (separate response follows) or RST
    if (!p.code.startsWith('0.')) {
      // a response: piggybacked in an ACK, or separate (CON: ACK it)
      if (p.confirmable) this.socket.send(generate({ code: '0.00', messageId: p.messageId, ack: true }), rinfo.port, rinfo.address);
      this.waiting.get(p.token.toString('hex'))?.(p);
      return;
    }
    void this.onRequest(p, rinfo);
  }

  private async onRequest(p: ParsedPacket, rinfo: dgram.RemoteInfo): Promise<void> {
    const cached = this.answered.get(p.messageId);
    if (cached) {
      this.socket.send(cached, rinfo.port, rinfo.address);
      return;
    }
    const segs = opts(p, 'Uri-Path', 11).map((v) => v.toString());
    const req: DevRequest = {
      method: METHODS[p.code] ?? p.code,
      path: '/' + segs.join('/'),
      query: opts(p, 'Uri-Query', 15).map((v) => v.toString()),
      contentFormat: opts(p, 'Content-Format', 12).map(readUint)[0],
      accept: opts(p, 'Accept', 17).map(readUint)[0],
      payload: p.payload,
      messageId: p.messageId,
    };
    // A retransmission of a request we stay silent on is not recorded twice.
    if (!this.received.some((r) => r.messageId === req.messageId)) this.received.push(req);
    else return;
    const answer = await this.handler(req);
    if (answer === null || this.closed) return;
    const options: Array<{ name: string; value: Buffer }> = [];
    if (answer.format !== undefined) options.push({ name: 'Content-Format', value: uint(answer.format) });
    const payload = answer.payload === undefined ? undefined : Buffer.isBuffer(answer.payload) ? answer.payload : Buffer.from(answer.payload);
    const buf = generate({ code: answer.code, messageId: p.messageId, token: p.token, options, payload, ack: true });
    this.answered.set(p.messageId, buf);
    this.socket.send(buf, rinfo.port, rinfo.address);
  }
}

/**
 * Hand-written TLV reader (OMA TS 1.0.2 6.4.3): returns resource id -> value bytes; an Object Instance TLV wrapper
 * (type 00) around the resources is unwrapped. Multiple resources (type 10) give id -> { riid: bytes }.
 */
export function readTlv(buf: Buffer): Map<number, Buffer | Map<number, Buffer>> {
  const out = new Map<number, Buffer | Map<number, Buffer>>();
  const entries = tlvEntries(buf);
  if (entries.length === 1 && entries[0].kind === 0) return readTlv(entries[0].value);
  for (const e of entries) {
    if (e.kind === 3) out.set(e.id, e.value);
    else if (e.kind === 2) {
      const m = new Map<number, Buffer>();
      for (const ri of tlvEntries(e.value)) m.set(ri.id, ri.value);
      out.set(e.id, m);
    } else throw new Error(`unexpected TLV type ${e.kind}`);
  }
  return out;
}

function tlvEntries(buf: Buffer): Array<{ kind: number; id: number; value: Buffer }> {
  const out: Array<{ kind: number; id: number; value: Buffer }> = [];
  let i = 0;
  while (i < buf.length) {
    const t = buf[i++];
    const kind = t >> 6;
    const id = t & 0x20 ? buf.readUInt16BE((i += 2) - 2) : buf[i++];
    const lt = (t >> 3) & 3;
    let len = t & 7;
    if (lt === 1) len = buf[i++];
    else if (lt === 2) len = buf.readUInt16BE((i += 2) - 2);
    else if (lt === 3) len = buf.readUIntBE((i += 3) - 3, 3);
    out.push({ kind, id, value: buf.subarray(i, i + len) });
    i += len;
  }
  return out;
}

/** Big-endian signed integer of a TLV value (1, 2, 4 or 8 bytes). */
export function tlvInt(b: Buffer): number {
  switch (b.length) {
    case 1: return b.readInt8(0);
    case 2: return b.readInt16BE(0);
    case 4: return b.readInt32BE(0);
    case 8: return Number(b.readBigInt64BE(0));
    default: throw new Error(`bad TLV integer length ${b.length}`);
  }
}

/** Hand-written SenML resolution over a decoded CBOR/JSON pack: name -> record (bn + n), keeping the value fields. */
export function senmlByName(records: Array<Record<string, unknown>>, labels: { bn: string; n: string; v: string; vs: string; vb: string; vd: string; vlo: string }): Map<string, unknown> {
  const out = new Map<string, unknown>();
  let bn = '';
  for (const r of records) {
    if (r[labels.bn] !== undefined) bn = r[labels.bn] as string;
    const name = bn + ((r[labels.n] as string | undefined) ?? '');
    const value = r[labels.v] ?? r[labels.vs] ?? r[labels.vb] ?? r[labels.vd] ?? r[labels.vlo];
    out.set(name, value);
  }
  return out;
}
