/**
 * Registration storm (load side): `n` devices, each with its own endpoint name, register over a pool of sockets with
 * `window` Register requests in flight. Device i sends from socket i % pool.size; its token is i (4 bytes), so answers
 * are matched by token whatever the server does with message ids (piggybacked or separate response, RFC 7252 5.2).
 */
import { RegisterTemplate, TYPE_ACK, TYPE_CON, TYPE_RST, codeClass, codeString, emptyAck, midOf, tklOf, typeOf, CODE_201 } from '../lib/raw-coap';
import { cpuMeter, InFlight, SocketPool, Target } from './pool';
import { dropMeter } from '../lib/udp-stats';

export interface StormResult {
  n: number;
  ok: number;
  failed: number;
  /** Answers by CoAP code, e.g. { '2.01': 999, '4.00': 1 } (plus 'timeout'). */
  codes: Record<string, number>;
  elapsedMs: number;
  perSecond: number;
  retransmissions: number;
  /** CPU of the load process over the storm, as a share of one core. */
  loadCpu: number;
  /** Datagrams the kernel dropped for a full socket buffer during the storm (whole machine; NaN if unknown). */
  kernelDrops: number;
}

export interface StormOptions {
  pool: SocketPool;
  target: Target;
  template: RegisterTemplate;
  /** Device indexes `first .. first + n - 1` (their names and tokens). */
  first?: number;
  n: number;
  window: number;
  retransmitMs?: number;
}

export function registerStorm(o: StormOptions): Promise<StormResult> {
  const { pool, target, template, n } = o;
  const first = o.first ?? 0;
  const window = Math.max(1, Math.min(o.window, n));
  const codes: Record<string, number> = {};
  let next = 0;
  let finished = 0;
  let ok = 0;
  const cpu = cpuMeter();
  const drops = dropMeter();
  const t0 = process.hrtime.bigint();

  return new Promise<StormResult>((resolve) => {
    const prevHook = pool.onResponse;
    const finish = (): void => {
      inflight.stop();
      pool.onResponse = prevHook;
      const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const c = cpu();
      resolve({
        n, ok, failed: n - ok, codes, elapsedMs, perSecond: ok / (elapsedMs / 1000), retransmissions: inflight.retransmissions,
        loadCpu: c.share, kernelDrops: drops(),
      });
    };
    const complete = (code: string): void => {
      codes[code] = (codes[code] ?? 0) + 1;
      finished++;
      if (next < n) sendNext();
      else if (finished === n) finish();
    };
    const inflight = new InFlight(pool, target, () => complete('timeout'), o.retransmitMs ?? 2000);
    const sendNext = (): void => {
      const k = next++;
      const i = first + k;
      const sock = i % pool.size;
      inflight.send(i, sock, template.make(i, pool.nextMid(sock)));
    };
    pool.onResponse = (sock, buf, rinfo) => {
      const type = typeOf(buf);
      if (type === TYPE_CON) pool.sockets[sock].send(emptyAck(midOf(buf)), rinfo.port, rinfo.address);
      if (tklOf(buf) !== 4) return; // an empty ACK of a separate response (RFC 7252 5.2.2), or not ours
      if (type === TYPE_ACK && buf[1] === 0) return;
      const i = buf.readUInt32BE(4);
      if (!inflight.done(i)) return; // a duplicate answer
      if (type === TYPE_RST) { complete('RST'); return; }
      if (buf[1] === CODE_201) ok++;
      complete(codeClass(buf[1]) > 0 ? codeString(buf[1]) : 'empty');
    };
    for (let k = 0; k < window; k++) sendNext();
  });
}
