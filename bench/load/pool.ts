/**
 * Load side: a pool of UDP sockets on loopback, each carrying many virtual devices, and a small retransmission helper
 * (RFC 7252 4.2, simplified: a fixed timeout, a bounded number of attempts) so that a datagram dropped by a full socket
 * buffer slows a run down instead of hanging it.
 */
import * as dgram from 'dgram';
import { codeClass } from '../lib/raw-coap';

export interface Target {
  address: string;
  port: number;
}

export interface RemoteInfo {
  address: string;
  port: number;
}

export type MessageHook = (sock: number, buf: Buffer, rinfo: RemoteInfo) => void;

/** What the pool needs of a socket: node:dgram's Socket, or our DTLS client socket (one server, decrypted messages). */
export interface PoolSocket {
  send(msg: Buffer, port: number, address: string, callback?: (err: Error | null) => void): void;
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(callback?: () => void): void;
}

export class SocketPool {
  readonly sockets: PoolSocket[] = [];
  /** Next message id per socket (each socket is its own CoAP peer: ids only need to be unique per socket). */
  private readonly mids: Uint16Array;
  /** Responses, ACKs and RSTs. */
  onResponse: MessageHook = () => undefined;
  /** Requests from the server under test (GET / observe...). */
  onRequest: MessageHook = () => undefined;
  datagramsIn = 0;

  private constructor(n: number) {
    this.mids = new Uint16Array(n);
    for (let i = 0; i < n; i++) this.mids[i] = Math.floor(Math.random() * 65536);
  }

  private attach(s: PoolSocket): void {
    const idx = this.sockets.length;
    this.sockets.push(s);
    s.on('message', (buf, rinfo) => {
      this.datagramsIn++;
      if (buf.length < 4) return;
      // A request has code class 0 and a non-zero code (an empty message has code 0.00).
      if (codeClass(buf[1]) === 0 && buf[1] !== 0) this.onRequest(idx, buf, rinfo);
      else this.onResponse(idx, buf, rinfo);
    });
    s.on('error', () => undefined);
  }

  /** `n` UDP sockets bound to `address` on ephemeral ports. */
  static async open(n: number, address = '127.0.0.1'): Promise<SocketPool> {
    const pool = new SocketPool(n);
    const type = address.includes(':') ? 'udp6' : 'udp4';
    try {
      for (let i = 0; i < n; i++) {
        const s = dgram.createSocket({ type });
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind(0, address, () => {
            s.off('error', reject);
            resolve();
          });
        });
        // Larger buffers where the kernel allows (it caps them at net.core.[rw]mem_max).
        try { s.setRecvBufferSize(4 << 20); s.setSendBufferSize(4 << 20); } catch { /* capped */ }
        pool.attach(s);
      }
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** A pool over sockets opened elsewhere (DTLS client sockets). */
  static wrap(sockets: PoolSocket[]): SocketPool {
    const pool = new SocketPool(sockets.length);
    for (const s of sockets) pool.attach(s);
    return pool;
  }

  get size(): number { return this.sockets.length; }

  nextMid(sock: number): number {
    const m = this.mids[sock];
    this.mids[sock] = (m + 1) & 0xffff;
    return m;
  }

  send(sock: number, buf: Buffer, target: Target): void {
    this.sockets[sock].send(buf, target.port, target.address);
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => {
      try { s.close(() => resolve()); } catch { resolve(); }
    })));
    this.sockets.length = 0;
  }
}

interface Entry {
  sock: number;
  buf: Buffer;
  /** When to send again. */
  due: number;
  rto: number;
  attempts: number;
}

/**
 * Messages waiting for their answer, by key. Like a CoAP device (RFC 7252 4.2), the first timeout is random between
 * `timeoutMs` and 1.5 × `timeoutMs` and doubles with each retransmission, so that a burst lost at once does not come
 * back at once; `sweep` (every 50 ms while something waits) sends again what is due and gives up after `maxAttempts`.
 */
export class InFlight {
  private readonly map = new Map<number, Entry>();
  private timer: NodeJS.Timeout | null = null;
  retransmissions = 0;
  gaveUp = 0;

  constructor(private readonly pool: SocketPool, private readonly target: Target,
    private readonly onGiveUp: (key: number) => void, private readonly timeoutMs = 2000, private readonly maxAttempts = 5) {}

  get size(): number { return this.map.size; }

  send(key: number, sock: number, buf: Buffer): void {
    const rto = this.timeoutMs * (1 + Math.random() * 0.5);
    this.map.set(key, { sock, buf, due: Date.now() + rto, rto, attempts: 1 });
    this.pool.send(sock, buf, this.target);
    if (this.timer === null) this.timer = setInterval(() => this.sweep(), 50);
  }

  /** Removes the key; true when it was waiting. */
  done(key: number): boolean {
    const had = this.map.delete(key);
    if (this.map.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    return had;
  }

  has(key: number): boolean { return this.map.has(key); }

  private sweep(): void {
    const now = Date.now();
    for (const [key, e] of this.map) {
      if (now < e.due) continue;
      if (e.attempts >= this.maxAttempts) {
        this.done(key);
        this.gaveUp++;
        this.onGiveUp(key);
        continue;
      }
      e.attempts++;
      e.rto *= 2;
      e.due = now + e.rto;
      this.retransmissions++;
      this.pool.send(e.sock, e.buf, this.target);
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.map.clear();
  }
}

/** CPU use of this process over an interval, as a share of one core. */
export function cpuMeter(): () => { cpuMs: number; share: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return () => {
    const c = process.cpuUsage(c0);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpuMs = (c.user + c.system) / 1000;
    return { cpuMs, share: ms > 0 ? cpuMs / ms : NaN };
  };
}
