/**
 * Load side: the devices answer the server's requests (Read, Observe) and send notifications.
 *
 * Every device on a socket answers the same way: the payload of a path comes from a table built once (per path and
 * content format, with the project's encoders; the hot path only copies bytes). A request with an Accept the table
 * does not have gets 4.06 Not Acceptable (RFC 7252 5.10.4), so the server's format negotiation stays honest.
 */
import {
  CODE_205, CODE_404, CODE_406, RequestView, TYPE_ACK, TYPE_CON, TYPE_NON, TYPE_RST, midOf, readRequest, response, tklOf, typeOf,
} from '../lib/raw-coap';
import { cpuMeter, InFlight, RemoteInfo, SocketPool, Target } from './pool';

/** path -> content format -> payloads (several: a notification takes the next one, so the value changes). */
export type PayloadTable = Map<string, Map<number, Buffer[]>>;

export interface ResponderCounters {
  requests: number;
  answered: number;
  notAcceptable: number;
  notFound: number;
  observeRegistrations: number;
}

export class Responder {
  readonly counters: ResponderCounters = { requests: 0, answered: 0, notAcceptable: 0, notFound: 0, observeRegistrations: 0 };
  // Observations, as parallel arrays (one entry per observe request we accepted).
  private obsSock: number[] = [];
  private obsToken: Buffer[] = [];
  private obsPayloads: Buffer[][] = [];
  private obsFormat: number[] = [];
  private obsSeq: number[] = [];
  private obsDead: boolean[] = [];
  /** socket + token -> observation, so that a retransmitted observe request does not count twice */
  private readonly obsByToken = new Map<string, number>();
  private readonly view: RequestView = { path: '', accept: -1, observe: -1 };

  constructor(private readonly pool: SocketPool, private readonly table: PayloadTable,
    private readonly defaults: { single: number; multi: number }) {
    pool.onRequest = (sock, buf, rinfo) => this.onRequest(sock, buf, rinfo);
  }

  get observations(): number { return this.obsSock.length; }

  private onRequest(sock: number, buf: Buffer, rinfo: RemoteInfo): void {
    this.counters.requests++;
    const type = typeOf(buf);
    const tkl = tklOf(buf);
    const mid = midOf(buf);
    const v = this.view;
    if (!readRequest(buf, v)) return;
    const rtype = type === TYPE_CON ? TYPE_ACK : TYPE_NON;
    const rmid = type === TYPE_CON ? mid : this.pool.nextMid(sock);
    const formats = this.table.get(v.path);
    let out: Buffer;
    if (formats === undefined) {
      this.counters.notFound++;
      out = response(rtype, CODE_404, rmid, buf, 4, tkl, -1, -1, undefined);
    } else {
      const format = v.accept >= 0 ? v.accept : (v.path.split('/').length === 4 ? this.defaults.single : this.defaults.multi);
      const payloads = formats.get(format);
      if (payloads === undefined) {
        this.counters.notAcceptable++;
        out = response(rtype, CODE_406, rmid, buf, 4, tkl, -1, -1, undefined);
      } else {
        let observe = -1;
        if (v.observe === 0) {
          // RFC 7641 3.1 / 4.1: the device adds the server to its observers (once per token, 4.1: a request with the
          // token of an existing entry replaces it) and answers with an Observe option.
          const key = sock + ':' + buf.toString('hex', 4, 4 + tkl);
          const known = this.obsByToken.get(key);
          if (known === undefined) {
            this.counters.observeRegistrations++;
            this.obsByToken.set(key, this.obsSock.length);
            this.obsSock.push(sock);
            this.obsToken.push(Buffer.from(buf.subarray(4, 4 + tkl)));
            this.obsPayloads.push(payloads);
            this.obsFormat.push(format);
            this.obsSeq.push(2);
            this.obsDead.push(false);
          } else {
            this.obsFormat[known] = format;
            this.obsPayloads[known] = payloads;
            this.obsDead[known] = false;
          }
          observe = 1;
        }
        this.counters.answered++;
        out = response(rtype, CODE_205, rmid, buf, 4, tkl, observe, format, payloads[0]);
      }
    }
    this.pool.sockets[sock].send(out, rinfo.port, rinfo.address);
  }

  /**
   * Sends confirmable notifications (RFC 7641 4.2, 4.5) round robin over the observations, `window` waiting for their
   * ACK at a time, for `durationMs`; then stops at once (what is still awaited is dropped, so that a lost datagram does
   * not stretch the run). Returns what the load side saw; the server counts what it delivered.
   */
  notify(durationMs: number, window: number, target: Target): Promise<{ sent: number; acked: number; resets: number; retransmissions: number; elapsedMs: number; loadCpu: number }> {
    const n = this.obsSock.length;
    if (n === 0) return Promise.reject(new Error('no observation to notify'));
    let next = 0;
    let sent = 0;
    let acked = 0;
    let resets = 0;
    const cpu = cpuMeter();
    const t0 = Date.now();
    const prevHook = this.pool.onResponse;
    return new Promise((resolve) => {
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        this.pool.onResponse = prevHook;
        inflight.stop();
        resolve({ sent, acked, resets, retransmissions: inflight.retransmissions, elapsedMs: Date.now() - t0, loadCpu: cpu().share });
      };
      /** message key -> observation, to stop notifying an observation the server reset (RFC 7641 3.6) */
      const obsOf = new Map<number, number>();
      const inflight = new InFlight(this.pool, target, (key) => { obsOf.delete(key); sendOne(); }, 2000);
      const timer = setTimeout(end, durationMs);
      const sendOne = (): void => {
        if (ended) return;
        for (let tries = 0; tries < n; tries++) {
          const k = next;
          next = (next + 1) % n;
          if (this.obsDead[k]) continue;
          const sock = this.obsSock[k];
          const mid = this.pool.nextMid(sock);
          const seq = this.obsSeq[k]++;
          const payloads = this.obsPayloads[k];
          const tok = this.obsToken[k];
          const buf = response(TYPE_CON, CODE_205, mid, tok, 0, tok.length, seq & 0xffffff, this.obsFormat[k], payloads[seq % payloads.length]);
          sent++;
          obsOf.set(sock * 65536 + mid, k);
          inflight.send(sock * 65536 + mid, sock, buf);
          return;
        }
        end(); // every observation was reset
      };
      this.pool.onResponse = (sock, buf) => {
        const type = typeOf(buf);
        if (type !== TYPE_ACK && type !== TYPE_RST) return;
        const key = sock * 65536 + midOf(buf);
        if (!inflight.done(key)) return;
        const k = obsOf.get(key)!;
        obsOf.delete(key);
        if (type === TYPE_RST) {
          resets++;
          this.obsDead[k] = true;
        } else acked++;
        sendOne();
      };
      for (let k = 0; k < window; k++) sendOne();
    });
  }
}
