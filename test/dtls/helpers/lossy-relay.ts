import * as dgram from 'dgram';
import { mulberry32 } from '../../helpers/prng';

/**
 * A UDP relay for tests, on loopback only: clients send to `relay.port`, the relay forwards to the target from one
 * upstream socket per client (so the server sees each client as its own peer), and forwards answers back. Each
 * direction drops datagrams with a seeded pseudo-random probability, or by a filter.
 */

export { mulberry32 };

export type Direction = 'toServer' | 'toClient';

export interface RelayOptions {
  target: { address: string; port: number };
  /** probability of dropping a datagram client -> server */
  lossToServer?: number;
  /** probability of dropping a datagram server -> client */
  lossToClient?: number;
  seed?: number;
  /** called for every datagram before the loss draw; return false to drop it */
  filter?: (dir: Direction, msg: Buffer) => boolean;
  /** one upstream socket for every client: the server sees them all as one peer (a rebooted device behind NAT) */
  singleUpstream?: boolean;
}

interface Upstream {
  socket: dgram.Socket;
  client: { address: string; port: number };
}

export class LossyRelay {
  readonly forwarded = { toServer: 0, toClient: 0 };
  readonly dropped = { toServer: 0, toClient: 0 };
  private readonly upstreams = new Map<string, Upstream>();
  private single: Upstream | undefined;
  private last: Upstream | undefined;
  private readonly random: () => number;

  private constructor(private readonly front: dgram.Socket, private readonly opts: RelayOptions) {
    this.random = mulberry32(opts.seed ?? 1);
    front.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
  }

  static async create(opts: RelayOptions): Promise<LossyRelay> {
    const front = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
    return new LossyRelay(front, opts);
  }

  get port(): number {
    return this.front.address().port;
  }

  /** The ports the server sees the relayed clients at. */
  upstreamPorts(): number[] {
    const all = this.single ? [this.single] : [...this.upstreams.values()];
    return all.filter((u) => isBound(u.socket)).map((u) => u.socket.address().port);
  }

  /** Sends raw bytes to the server from the upstream socket of the latest client (as if that client sent them). */
  injectToServer(msg: Buffer): void {
    const up = this.last;
    if (!up) throw new Error('no client yet');
    up.socket.send(msg, this.opts.target.port, this.opts.target.address);
  }

  private pass(dir: Direction, msg: Buffer): boolean {
    if (this.opts.filter && !this.opts.filter(dir, msg)) {
      this.dropped[dir]++;
      return false;
    }
    const loss = dir === 'toServer' ? this.opts.lossToServer ?? 0 : this.opts.lossToClient ?? 0;
    if (loss > 0 && this.random() < loss) {
      this.dropped[dir]++;
      return false;
    }
    this.forwarded[dir]++;
    return true;
  }

  private upstreamFor(rinfo: dgram.RemoteInfo): Upstream {
    const key = `${rinfo.address}:${rinfo.port}`;
    let up = this.opts.singleUpstream ? this.single : this.upstreams.get(key);
    if (up === undefined) {
      const socket = dgram.createSocket('udp4');
      socket.bind(0, '127.0.0.1'); // sends issued before the bind completes are queued by node
      const created: Upstream = { socket, client: { address: rinfo.address, port: rinfo.port } };
      socket.on('message', (msg) => {
        if (this.pass('toClient', msg)) this.front.send(msg, created.client.port, created.client.address);
      });
      up = created;
      if (this.opts.singleUpstream) this.single = up;
      else this.upstreams.set(key, up);
    }
    // with one upstream, answers go to whichever client spoke last
    up.client = { address: rinfo.address, port: rinfo.port };
    return up;
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const up = this.upstreamFor(rinfo);
    this.last = up;
    if (this.pass('toServer', msg)) up.socket.send(msg, this.opts.target.port, this.opts.target.address);
  }

  async close(): Promise<void> {
    const sockets = [this.front, ...(this.single ? [this.single.socket] : []), ...[...this.upstreams.values()].map((u) => u.socket)];
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
      try { s.close(() => resolve()); } catch { resolve(); }
    })));
  }
}

function isBound(s: dgram.Socket): boolean {
  try {
    s.address();
    return true;
  } catch {
    return false;
  }
}
