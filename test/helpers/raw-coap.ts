/**
 * A raw CoAP peer for tests: a UDP socket that sends hand-made datagrams (coap-packet's generate, independent of our
 * encoder) and records what comes back, parsed with coap-packet.
 */
import * as dgram from 'dgram';
import { generate, parse, ParsedPacket, Packet } from 'coap-packet';

export interface RawPeer {
  readonly port: number;
  readonly address: string;
  readonly received: ParsedPacket[];
  send(packet: Packet | Buffer, port: number, address?: string): void;
  /** Resolves with the next datagram matching `pred` (already received ones included), or rejects after `timeoutMs`. */
  waitFor(pred: (p: ParsedPacket) => boolean, timeoutMs?: number): Promise<ParsedPacket>;
  /** Resolves after `ms` of real time (to check that nothing arrives). */
  quiet(ms: number): Promise<void>;
  onPacket: ((p: ParsedPacket, rinfo: dgram.RemoteInfo) => void) | null;
  close(): Promise<void>;
}

export async function createRawPeer(address = '127.0.0.1'): Promise<RawPeer> {
  const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const received: ParsedPacket[] = [];
  const waiters: { pred: (p: ParsedPacket) => boolean; resolve: (p: ParsedPacket) => void; from: number }[] = [];
  const peer: RawPeer = {
    port: 0,
    address,
    received,
    onPacket: null,
    send(packet, port, to = address) {
      const buf = Buffer.isBuffer(packet) ? packet : generate(packet);
      sock.send(buf, port, to);
    },
    waitFor(pred, timeoutMs = 5000) {
      const hit = received.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (p: ParsedPacket) => {
          clearTimeout(timer);
          resolve(p);
        }, from: received.length };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error('raw peer: nothing matching arrived in time'));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    quiet(ms) {
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
    close() {
      return new Promise((resolve) => sock.close(() => resolve()));
    },
  };
  sock.on('message', (msg, rinfo) => {
    let p: ParsedPacket;
    try {
      p = parse(msg);
    } catch {
      return;
    }
    received.push(p);
    peer.onPacket?.(p, rinfo);
    for (const w of [...waiters]) {
      if (w.pred(p)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p);
      }
    }
  });
  await new Promise<void>((resolve) => sock.bind(0, address, () => resolve()));
  (peer as { port: number }).port = sock.address().port;
  return peer;
}

export function option(p: ParsedPacket, name: string): Buffer | undefined {
  return p.options.find((o) => o.name === name)?.value;
}

export function options(p: ParsedPacket, name: string): Buffer[] {
  return p.options.filter((o) => o.name === name).map((o) => o.value);
}

export function uint(b: Buffer | undefined): number | undefined {
  if (b === undefined) return undefined;
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return n;
}
