import * as dgram from 'dgram';
import { randomBytes } from 'crypto';
import { ContentType, HandshakeType } from '../../../src/dtls/constants';
import { decodeHelloVerifyRequest, encodeClientHello, encodeHandshake, Extension, parseHandshakeFragments } from '../../../src/dtls/handshake-messages';
import { encodePlainRecord, parseRecord, RecordView } from '../../../src/dtls/record';

/** A hand-driven UDP peer for negative tests: sends whatever bytes it is given, collects what comes back. */
export class RawPeer {
  readonly received: Buffer[] = [];
  /** when true, datagrams nobody waits for are counted and thrown away */
  discard = false;
  count = 0;
  private waiters: ((m: Buffer) => void)[] = [];

  private constructor(readonly socket: dgram.Socket, private readonly target: { address: string; port: number }) {
    socket.on('message', (m) => {
      this.count++;
      const w = this.waiters.shift();
      if (w) w(m);
      else if (!this.discard) this.received.push(m);
    });
  }

  /** A peer bound to `bindAddress` (default 127.0.0.1; any 127.x.y.z is loopback too) talking to 127.0.0.1:`port`. */
  static async create(port: number, bindAddress = '127.0.0.1'): Promise<RawPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, bindAddress, r));
    return new RawPeer(socket, { address: '127.0.0.1', port });
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(msg: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(msg, this.target.port, this.target.address, (e) => (e ? reject(e) : resolve())));
  }

  /** The next datagram received (or one already queued). */
  next(ms = 5000): Promise<Buffer> {
    const queued = this.received.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('nothing received')), ms);
      this.waiters.push((m) => { clearTimeout(t); resolve(m); });
    });
  }

  close(): Promise<void> {
    return new Promise((r) => { try { this.socket.close(() => r()); } catch { r(); } });
  }
}

export interface HelloParams {
  random?: Buffer;
  cookie?: Buffer;
  version?: number;
  suites?: number[];
  extensions?: Extension[];
  messageSeq?: number;
  recordSeq?: number;
  /** record-layer version (default 0xfefd) */
  recordVersion?: number;
}

/** A ClientHello datagram (one record, one unfragmented message). */
export function clientHello(p: HelloParams = {}): Buffer {
  const body = encodeClientHello({
    clientVersion: p.version ?? 0xfefd,
    random: p.random ?? randomBytes(32),
    sessionId: Buffer.alloc(0),
    cookie: p.cookie ?? Buffer.alloc(0),
    cipherSuites: p.suites ?? [0xc0a8],
    compressionMethods: Buffer.from([0]),
    extensions: p.extensions ?? [{ type: 23, data: Buffer.alloc(0) }],
  });
  return encodePlainRecord(ContentType.Handshake, p.recordVersion ?? 0xfefd, 0, p.recordSeq ?? 0, encodeHandshake(HandshakeType.ClientHello, p.messageSeq ?? 0, body));
}

/** The cookie of a HelloVerifyRequest datagram, or undefined when it is something else. */
export function cookieOf(datagram: Buffer): Buffer | undefined {
  const v = new RecordView();
  if (parseRecord(datagram, 0, v) < 0 || v.type !== ContentType.Handshake) return undefined;
  const [f] = parseHandshakeFragments(datagram.subarray(v.start, v.end));
  if (f.msgType !== HandshakeType.HelloVerifyRequest) return undefined;
  return decodeHelloVerifyRequest(f.body).cookie;
}

/** Runs the cookie exchange by hand: afterwards the server holds a handshake for this peer. Returns its answer. */
export async function startHandshake(peer: RawPeer, p: HelloParams = {}): Promise<Buffer> {
  const random = p.random ?? randomBytes(32);
  await peer.send(clientHello({ ...p, random }));
  const cookie = cookieOf(await peer.next());
  if (!cookie) throw new Error('expected a HelloVerifyRequest');
  await peer.send(clientHello({ ...p, random, cookie, messageSeq: 1, recordSeq: 1 }));
  return peer.next();
}
