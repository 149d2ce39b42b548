/**
 * Load side: a closed loop of requests with `window` in flight for `durationMs`, spread over the sockets of a pool,
 * each answer (matched by socket and message id) releasing the next request. Used for the baselines: the raw echo
 * (a 4-byte datagram the echo server sends back) and node-coap's GET.
 */
import { generate } from 'coap-packet';
import { TYPE_ACK, TYPE_CON, TYPE_RST, codeClass, emptyAck, midOf, typeOf } from '../lib/raw-coap';
import { cpuMeter, InFlight, SocketPool, Target } from './pool';
import { dropMeter } from '../lib/udp-stats';

export interface LoopResult {
  ok: number;
  errors: number;
  elapsedMs: number;
  perSecond: number;
  retransmissions: number;
  loadCpu: number;
  kernelDrops: number;
}

/** Makes the datagram for (socket, message id). */
export type MessageMaker = (sock: number, mid: number) => Buffer;

/** A 4-byte datagram shaped like an ACK with code 2.05, so that the echo of it reads as an answer. */
export const echoMessage: MessageMaker = (_sock, mid) => {
  const b = Buffer.allocUnsafe(4);
  b[0] = 0x60; b[1] = 0x45; b[2] = mid >> 8; b[3] = mid & 0xff;
  return b;
};

/** A CON GET on `path` (a template from coap-packet, message id patched per request). */
export function getMessage(path: string): MessageMaker {
  const tpl = generate({
    confirmable: true, code: 'GET', messageId: 0, token: Buffer.from([1, 2, 3, 4]),
    options: path.split('/').filter(Boolean).map((s) => ({ name: 'Uri-Path' as const, value: Buffer.from(s) })),
  });
  return (_sock, mid) => {
    const b = Buffer.allocUnsafe(tpl.length);
    tpl.copy(b);
    b[2] = mid >> 8; b[3] = mid & 0xff;
    return b;
  };
}

/**
 * Counts the answers received within `durationMs`; answers still awaited then are waited for (up to 3 s) but not
 * counted, so that a lost datagram does not stretch the measured interval.
 */
export function requestLoop(pool: SocketPool, target: Target, make: MessageMaker, durationMs: number, window: number): Promise<LoopResult> {
  let ok = 0;
  let measuredMs = NaN;
  let errors = 0;
  let rr = 0;
  const cpu = cpuMeter();
  const drops = dropMeter();
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  const prevHook = pool.onResponse;
  return new Promise((resolve) => {
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      pool.onResponse = prevHook;
      inflight.stop();
      const elapsedMs = Number.isFinite(measuredMs) ? measuredMs : Number(process.hrtime.bigint() - t0) / 1e6;
      resolve({ ok, errors, elapsedMs, perSecond: ok / (elapsedMs / 1000), retransmissions: inflight.retransmissions, loadCpu: c.share, kernelDrops: drops() });
    };
    let c = { cpuMs: 0, share: NaN };
    const next = (): void => {
      if (Date.now() < deadline) {
        const sock = rr;
        rr = (rr + 1) % pool.size;
        const mid = pool.nextMid(sock);
        inflight.send(sock * 65536 + mid, sock, make(sock, mid));
      } else {
        if (!Number.isFinite(measuredMs)) {
          measuredMs = Number(process.hrtime.bigint() - t0) / 1e6;
          c = cpu();
        }
        if (inflight.size === 0) end();
      }
    };
    const inflight = new InFlight(pool, target, () => { errors++; next(); }, 1000);
    pool.onResponse = (sock, buf, rinfo) => {
      const type = typeOf(buf);
      if (type === TYPE_CON) {
        // a separate response: acknowledge it; our loop counts piggybacked answers only
        pool.sockets[sock].send(emptyAck(midOf(buf)), rinfo.port, rinfo.address);
        return;
      }
      if (type !== TYPE_ACK && type !== TYPE_RST) return;
      if (!inflight.done(sock * 65536 + midOf(buf))) return;
      if (type === TYPE_ACK && codeClass(buf[1]) === 2) { if (!Number.isFinite(measuredMs)) ok++; } else errors++;
      next();
    };
    for (let k = 0; k < window; k++) next();
    // Stop waiting for stragglers shortly after the deadline (a lost datagram must not stretch the run).
    const guard = setTimeout(() => {
      if (!Number.isFinite(measuredMs)) { measuredMs = Number(process.hrtime.bigint() - t0) / 1e6; c = cpu(); }
      end();
    }, durationMs + 3000);
    guard.unref();
  });
}
