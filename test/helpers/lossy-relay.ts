/**
 * A UDP relay for tests that drops a share of datagrams in each direction, decided by a seeded PRNG.
 *
 * Clients send to `relay.port`; each distinct client address gets its own upstream socket towards the target, so the target
 * sees one peer per client and answers go back to the right client. `maxDropsPerDatagram` bounds how many times the same
 * bytes (a retransmission is byte-identical) may be dropped, which makes "every exchange completes within N retransmissions"
 * a certainty rather than a probability.
 */
import * as dgram from 'dgram';
import { mulberry32 } from './prng';

export interface LossyRelayOptions {
  /** Where datagrams from clients go. */
  target: { address: string; port: number };
  /** Share of datagrams dropped client -> target (0..1). */
  lossToTarget: number;
  /** Share of datagrams dropped target -> client (0..1). */
  lossToClient: number;
  /** PRNG seed (same seed, same drop decisions for the same sequence of datagrams). */
  seed: number;
  /** Most drops of the same bytes in the same direction (default: unbounded). */
  maxDropsPerDatagram?: number;
  /** Bind address (default 127.0.0.1). */
  address?: string;
}

export interface LossyRelay {
  readonly port: number;
  readonly address: string;
  readonly stats: { forwardedToTarget: number; droppedToTarget: number; forwardedToClient: number; droppedToClient: number };
  close(): Promise<void>;
}



export async function createLossyRelay(opts: LossyRelayOptions): Promise<LossyRelay> {
  const address = opts.address ?? '127.0.0.1';
  const type = address.includes(':') ? 'udp6' : 'udp4';
  const rand = mulberry32(opts.seed);
  const maxDrops = opts.maxDropsPerDatagram ?? Infinity;
  const dropCounts = new Map<string, number>();
  const stats = { forwardedToTarget: 0, droppedToTarget: 0, forwardedToClient: 0, droppedToClient: 0 };
  const front = dgram.createSocket(type);
  const upstreams = new Map<string, Promise<dgram.Socket>>();
  const sockets: dgram.Socket[] = [];
  let closed = false;

  const shouldDrop = (dir: string, msg: Buffer, share: number): boolean => {
    if (share <= 0) return false;
    const key = dir + msg.toString('latin1');
    const n = dropCounts.get(key) ?? 0;
    if (n >= maxDrops) return false;
    if (rand() >= share) return false;
    dropCounts.set(key, n + 1);
    return true;
  };

  const upstreamFor = (rinfo: dgram.RemoteInfo): Promise<dgram.Socket> => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let up = upstreams.get(key);
    if (up) return up;
    const sock = dgram.createSocket(type);
    sockets.push(sock);
    sock.on('message', (msg) => {
      if (closed) return;
      if (shouldDrop('<' + key, msg, opts.lossToClient)) {
        stats.droppedToClient++;
        return;
      }
      stats.forwardedToClient++;
      front.send(msg, rinfo.port, rinfo.address);
    });
    sock.on('error', () => {});
    up = new Promise<dgram.Socket>((resolve) => sock.bind(0, address, () => resolve(sock)));
    upstreams.set(key, up);
    return up;
  };

  front.on('message', (msg, rinfo) => {
    if (closed) return;
    if (shouldDrop('>' + rinfo.address + ':' + rinfo.port, msg, opts.lossToTarget)) {
      stats.droppedToTarget++;
      return;
    }
    stats.forwardedToTarget++;
    void upstreamFor(rinfo).then((up) => {
      if (!closed) up.send(msg, opts.target.port, opts.target.address);
    });
  });
  front.on('error', () => {});
  await new Promise<void>((resolve) => front.bind(0, address, () => resolve()));

  return {
    port: front.address().port,
    address,
    stats,
    async close() {
      closed = true;
      const all = [front, ...sockets];
      await Promise.all(all.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
