/**
 * CoAP over a datagram socket (RFC 7252), with Observe (RFC 7641) and block-wise transfers (RFC 7959).
 *
 * One {@link UdpCoapEndpoint} serves requests and sends requests on the same socket. State is kept in a few maps and in
 * one timer wheel; there is no timer per device, and everything that could grow with traffic is bounded:
 * - requests we sent and wait for: until answered, reset, or their deadline (then nothing is left of them);
 * - CON messages we sent and wait to be acknowledged: until ACK/RST or the last retransmission's timeout;
 * - received message ids (deduplication, RFC 7252 4.5): at most `dedupCapacity`, each forgotten after EXCHANGE_LIFETIME,
 *   holding only the key and the bytes of the answer, in typed arrays (dedup.ts: no object per entry);
 * - block-wise bodies, both directions: at most `maxBlockTransfers` / `maxBlockBytes`, each forgotten after
 *   `blockTransferTimeoutMs` without a block;
 * - observations: until `forgetToken` (or a final notification);
 * - requests outstanding per peer (NSTART, RFC 7252 4.7): one count per peer with requests in flight, and a queue
 *   only while a peer has more than `nstart` (at most `maxQueuedPerPeer` waiting); both go when the queue drains;
 * - block sizes peers asked for (4.13 or 2.31 with a smaller Block1 SZX, RFC 7959 2.9.3 / 2.3): at most
 *   PEER_BLOCK_SIZES peers, for PEER_BLOCK_SIZE_TTL_MS;
 * - message ids of NON notifications we sent (so a RST to one reports the observer gone, RFC 7641 3.6): at most
 *   `nonNotificationCapacity`, each forgotten after NON_LIFETIME.
 *
 * Choices where the RFCs leave room:
 * - A Reset to one of our requests means the peer rejected it: the request rejects with {@link CancelledError}.
 * - A response or notification carrying the token of one of our requests or observations, but coming from another
 *   address or port than the one the exchange is bound to, is ignored: not delivered, not given to the notification
 *   handler, neither ACKed nor reset, not remembered (RFC 7252 5.3.2 matches a response by token *and* source
 *   endpoint; RFC 7641 3.2). Not answering is our choice over 5.3.2's reset: a RST would make a device whose NAT
 *   binding changed cancel its observation (RFC 7641 3.6) before its Update tells the server the new address (the
 *   server then moves the observation with `rebindToken`, and a CON notification retransmitted meanwhile is accepted),
 *   and a spoofed source address gets nothing back.
 * - NSTART (RFC 7252 4.7) counts a request as outstanding until its final answer, also after the empty ACK of a
 *   separate response (stricter than 4.7, which frees the slot at the ACK: a device answering separately is still
 *   busy with the request). An observation is no longer outstanding once its first answer came.
 * - A Reset to one of our notifications, CON or NON, means the observer is gone (RFC 7641 3.6, 4.5): the handler set
 *   with `setObserverGoneHandler` is told (and a CON notification's promise rejects with {@link CancelledError}).
 * - A duplicate of a Confirmable request still being handled is ignored until an answer (piggybacked or the empty ACK of
 *   a separate response) exists; later duplicates get exactly those bytes again.
 * - Follow-up requests of a block-wise transfer reuse the request's token (some servers, e.g. node-coap, key the transfer by
 *   token); blocks of a notification are fetched with a fresh token, so they cannot be mistaken for notifications.
 * - Our own served Block2 bodies and received Block1 bodies are keyed by peer, method, Uri-Path, Uri-Query (and Accept),
 *   never by token (RFC 7959 2.4, 2.5).
 */
import * as dgram from 'dgram';
import { promises as dnsPromises } from 'dns';
import { isIP } from 'net';
import { randomFillSync } from 'crypto';
import { CancelledError, CoapResponseError, TimeoutError } from '../errors';
import { TimerHandle, TimerWheel } from '../util/timer-wheel';
import { FifoMap } from '../util/fifo-map';
import { ACK_MARK, DedupCache, NON_MARK, PENDING_MARK, RST_MARK } from './dedup';
import { BlockwiseError, CoapMessageError, EndpointStateError, PeerQueueFullError } from './errors';
import {
  ACK,
  CON,
  CoapMessage,
  CoapOption,
  codeClass,
  decode,
  EMPTY,
  emptyMessage,
  encode,
  isResponseCode,
  METHOD_BY_CODE,
  METHOD_CODES,
  MessageType,
  NON,
  Opt,
  RST,
} from './message';
import { blockSize, encodeBlock, MessageOptions, pathSegments, readOptions, stringOptions, uintOption } from './options';
import { isFresh, OBSERVE_MAX } from './observe';
import { resolveParams, ResolvedParams, UdpCoapEndpointOptions } from './params';
import {
  CoapEndpoint,
  CoapRequest,
  CoapResponse,
  DatagramSocket,
  Method,
  NotificationHandler,
  ObserverGoneHandler,
  OutgoingRequest,
  Peer,
  ReceivedResponse,
  RequestHandler,
  RequestOptions,
} from './types';

export type { UdpCoapEndpointOptions } from './params';

/** Counters and sizes, for tests and monitoring. */
export interface EndpointStats {
  /** Requests we sent that wait for their answer. */
  pendingRequests: number;
  /** Requests waiting for one of their peer's `nstart` slots (RFC 7252 4.7), all peers together. */
  queuedRequests: number;
  /** Peers with requests outstanding or queued. */
  busyPeers: number;
  /** CON messages we sent that wait for an ACK/RST (requests, separate responses, notifications). */
  awaitingAck: number;
  /** Observations we hold (token routed to an onNotification). */
  observations: number;
  /** Remembered message ids (deduplication cache). */
  dedupEntries: number;
  /** Remembered message ids of NON notifications we sent (a RST to one reports the observer gone). */
  nonNotifications: number;
  /** Bodies being received block by block (Block1 requests). */
  block1Transfers: number;
  /** Bodies being served block by block (Block2 answers). */
  block2Bodies: number;
  /** Entries this endpoint has in its timer wheel (retransmissions, deadlines, separate-response delays, housekeeping). */
  timers: number;
  messagesIn: number;
  messagesOut: number;
  retransmissions: number;
  /** Duplicates received (answered from the cache, or dropped). */
  duplicates: number;
  /** Datagrams that were not CoAP. */
  malformed: number;
  /** ACK/RST/responses that matched nothing. */
  unmatched: number;
  /** Responses and notifications with a token of ours from another address or port than its exchange's (ignored). */
  wrongSource: number;
  /** Requests refused because their peer's queue was full ({@link PeerQueueFullError}). */
  queueRejected: number;
  /** RSTs to our notifications (CON or NON): observers gone (RFC 7641 3.6). */
  observersGone: number;
  /** Incoming requests given to the request handler. */
  handled: number;
  handlerErrors: number;
  sendErrors: number;
  /** Unexpected exceptions caught inside the endpoint (should stay 0). */
  internalErrors: number;
}

/** A CON message of ours waiting for its ACK: retransmitted with exponential back-off (RFC 7252 4.2). */
abstract class Outbound {
  mid = 0;
  midKey = '';
  bytes: Buffer = EMPTY;
  attempts = 0;
  rto = 0;
  timer: TimerHandle | null = null;
  constructor(readonly peer: Peer, readonly peerKey: string) {}
}

/** A separate CON response or a CON notification. */
class ConMessage extends Outbound {
  /** Token of a notification (null for a separate response). */
  token: Buffer | null = null;
  constructor(
    peer: Peer,
    peerKey: string,
    readonly what: string,
    readonly resolve: (() => void) | null,
    readonly reject: ((err: Error) => void) | null,
  ) {
    super(peer, peerKey);
  }
}

/** What we need to send one request message. */
interface ExchangeSpec {
  method: Method;
  path: string[];
  query: string[];
  contentFormat?: number;
  accept?: number;
  observe?: number;
  payload: Buffer;
  token?: Buffer;
  confirmable: boolean;
  timeoutMs: number;
  block1?: { num: number; more: boolean; szx: number };
  block2?: { num: number; more: boolean; szx: number };
  size1?: number;
}

interface Answer {
  res: ReceivedResponse;
  opts: MessageOptions;
}

/** A request we sent, waiting for its answer. For a CON it is also the Outbound waiting for its ACK. */
class PendingRequest extends Outbound {
  acked = false;
  deadline: TimerHandle | null = null;
  constructor(
    peer: Peer,
    peerKey: string,
    readonly tokenHex: string,
    readonly token: Buffer,
    readonly spec: ExchangeSpec,
    readonly resolve: (a: Answer) => void,
    readonly reject: (err: Error) => void,
    readonly onNotification: ((res: ReceivedResponse) => void) | undefined,
  ) {
    super(peer, peerKey);
  }
}

/** An observation we made: later notifications with its token (from its peer) go to `onNotification`. */
class Observation {
  /** Bumped per accepted notification: a notification whose blocks are still being fetched is dropped if a newer one came. */
  gen = 0;
  constructor(
    /** The only source notifications are accepted from; moved by `rebindToken`. */
    public peerKey: string,
    readonly spec: ExchangeSpec,
    readonly onNotification: (res: ReceivedResponse) => void,
    public seq: number,
    public time: number,
  ) {}
}

/** A request we received and answer. */
class ServerExchange {
  /** 0: nothing sent; 1: empty ACK sent, answer goes as a separate response; 2: answered. */
  state = 0;
  timer: TimerHandle | null = null;
  /** Block1 option to echo in the final answer of a block-wise request body. */
  block1Echo: Buffer | null = null;
  constructor(
    readonly peer: Peer,
    readonly peerKey: string,
    readonly mid: number,
    readonly token: Buffer,
    readonly confirmable: boolean,
    readonly method: Method,
    readonly opts: MessageOptions,
  ) {}
}

/** A body served block by block. */
interface ServedBody {
  code: string;
  contentFormat?: number;
  maxAge?: number;
  observe?: number;
  locationPath?: string[];
  body: Buffer;
  /** Identifies this representation in every block (RFC 7959 2.4, RFC 7252 5.10.6), computed once. */
  etag: Buffer;
}

/** A request body being received block by block. */
interface Assembly {
  parts: Buffer[];
  received: number;
}

/** A request waiting for a slot of its peer (NSTART). */
interface Waiter {
  /** Wheel time after which it gives up (its timeoutMs from the call). */
  deadline: number;
  timeoutMs: number;
  what: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The requests waiting for one peer, oldest first: `items[head..]` (the front is dropped by moving `head`). */
interface PeerQueue {
  items: Waiter[];
  head: number;
}

const DIAGNOSTIC_MAX = 128;
/** Most peers whose (smaller) preferred Block1 size is remembered; the oldest is forgotten first. */
const PEER_BLOCK_SIZES = 4096;
/** How long a peer's preferred Block1 size is remembered (a forgotten one is learnt again with one more 4.13). */
const PEER_BLOCK_SIZE_TTL_MS = 24 * 3600_000;

/** Peer key: address and port. IPv4-mapped IPv6 addresses are folded to IPv4 so both spellings match. */
export function peerKeyOf(address: string, port: number): string {
  if (address.length > 7 && address.startsWith('::ffff:') && address.indexOf('.') > 0) address = address.slice(7);
  return address + ':' + port;
}

export class UdpCoapEndpoint implements CoapEndpoint {
  readonly socket: DatagramSocket;
  readonly params: ResolvedParams;
  private readonly wheel: TimerWheel;
  private readonly ownWheel: boolean;
  private requestHandler: RequestHandler | null = null;
  private notificationHandler: NotificationHandler | null = null;
  private observerGoneHandler: ObserverGoneHandler | null = null;
  /** Requests waiting for an answer, by token (hex). */
  private readonly pending = new Map<string, PendingRequest>();
  /** CON messages waiting for an ACK (and NON requests, so a RST can cancel them), by peer + message id. */
  private readonly awaitingAck = new Map<string, Outbound>();
  /** Observations, by token (hex); the peer is checked on match. */
  private readonly observations = new Map<string, Observation>();
  /** Received message ids and our answers, by peer address, port and message id (dedup.ts). */
  private readonly dedup: DedupCache;
  /**
   * NON notifications we sent, by peer + message id -> token, for NON_LIFETIME (RFC 7252 4.8.2): a RST answering one
   * reports the observer gone (RFC 7641 3.6). Created on the first NON notification (most endpoints never send one).
   */
  private nonNotifs: FifoMap<Buffer> | null = null;
  private readonly block1: FifoMap<Assembly>;
  private readonly block2: FifoMap<ServedBody>;
  /** Requests outstanding per peer key (NSTART, RFC 7252 4.7); a peer with none has no entry. */
  private readonly inFlight = new Map<string, number>();
  /** Requests waiting per peer key; only peers at their `nstart` have one, deleted when it drains. */
  private readonly waiting = new Map<string, PeerQueue>();
  private queuedCount = 0;
  /** Block1 SZX a peer asked for when smaller than ours (RFC 7959 2.9.3, 2.3); created on the first such peer. */
  private peerSzx: FifoMap<number> | null = null;
  private mid: number;
  private tokenPool = Buffer.allocUnsafe(4096);
  private tokenPos = 4096;
  private housekeeping: TimerHandle | null = null;
  private readonly housekeepingMs: number;
  private timerCount = 0;
  private closed = false;
  private v6: boolean | undefined;
  private closePromise: Promise<void> | null = null;
  private readonly counters = {
    messagesIn: 0,
    messagesOut: 0,
    retransmissions: 0,
    duplicates: 0,
    malformed: 0,
    unmatched: 0,
    observersGone: 0,
    handled: 0,
    handlerErrors: 0,
    sendErrors: 0,
    internalErrors: 0,
    wrongSource: 0,
    queueRejected: 0,
  };

  constructor(socket: DatagramSocket, options: UdpCoapEndpointOptions = {}) {
    this.params = resolveParams(options);
    this.socket = socket;
    this.wheel = options.timerWheel ?? new TimerWheel({ resolutionMs: Math.min(10, Math.max(1, this.params.ackTimeoutMs / 10)) });
    this.ownWheel = options.timerWheel === undefined;
    const p = this.params;
    this.dedup = new DedupCache({ capacity: p.dedupCapacity, ttlMs: p.exchangeLifetimeMs });
    this.block1 = new FifoMap<Assembly>({
      capacity: p.maxBlockTransfers,
      ttlMs: p.blockTransferTimeoutMs,
      maxBytes: p.maxBlockBytes,
      sizeOf: (a) => a.received,
    });
    this.block2 = new FifoMap<ServedBody>({
      capacity: p.maxBlockTransfers,
      ttlMs: p.blockTransferTimeoutMs,
      maxBytes: p.maxBlockBytes,
      sizeOf: (b) => b.body.length,
    });
    this.housekeepingMs = Math.max(50, Math.min(10_000, p.exchangeLifetimeMs / 8, p.blockTransferTimeoutMs / 4, p.nonLifetimeMs / 4));
    this.mid = Math.floor(Math.random() * 0x10000);
    socket.on('message', this.onMessage);
    socket.on('error', this.onSocketError);
  }

  setRequestHandler(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  setNotificationHandler(handler: NotificationHandler): void {
    this.notificationHandler = handler;
  }

  /**
   * Who is told when a peer answers one of our notifications (CON or NON) with RST: the observer is gone and must be
   * removed (RFC 7641 3.6, 4.5). Called synchronously from the receive path; a throw is counted, never propagated.
   */
  setObserverGoneHandler(handler: ObserverGoneHandler | null): void {
    this.observerGoneHandler = handler;
  }

  address(): { address: string; port: number; family: string } {
    return this.socket.address();
  }

  stats(): EndpointStats {
    return {
      pendingRequests: this.pending.size,
      queuedRequests: this.queuedCount,
      busyPeers: this.inFlight.size,
      awaitingAck: this.awaitingAck.size,
      observations: this.observations.size,
      dedupEntries: this.dedup.size,
      nonNotifications: this.nonNotifs?.size ?? 0,
      block1Transfers: this.block1.size,
      block2Bodies: this.block2.size,
      timers: this.timerCount,
      ...this.counters,
    };
  }

  // ------------------------------------------------------------------------------------------------ outgoing requests

  async request(peer: Peer, req: OutgoingRequest, opts: RequestOptions = {}): Promise<ReceivedResponse> {
    if (this.closed) throw new CancelledError(`${describe(req)}: endpoint closed`);
    const spec = this.toSpec(req);
    // Built now to surface bad option values (segment too long, format out of range) as a typed error before anything
    // is sent; they serve the message of a plain exchange.
    const options = this.buildRequestOptions(spec);
    // An IP literal (the usual case) needs no lookup: no extra turn of the event loop.
    const target = this.literalPeer(peer) ?? (await this.resolvePeer(peer));
    const key = peerKeyOf(target.address, target.port);
    // NSTART (RFC 7252 4.7): taken synchronously when free, so calls made together leave in call order.
    if (!this.tryAcquire(key)) await this.waitForSlot(key, spec, target);
    try {
      let ans: Answer;
      const payloadLength = spec.payload.length;
      const szx = payloadLength > 16 ? this.blockSzxFor(key) : this.params.blockSzx;
      if (payloadLength > blockSize(szx)) ans = await this.sendBlock1(target, key, spec, requestWhat(spec, target), szx);
      else {
        ans = await this.exchange(target, spec, opts.onNotification, options, key);
        const b1 = ans.opts.block1;
        if (ans.res.code === '4.13' && b1 !== undefined && b1.szx < 7 && payloadLength > blockSize(b1.szx)) {
          // RFC 7959 2.9.3: a 4.13 with a Block1 option tells the size the server can take; send the body again, block
          // by block at that size, and start there for this peer from now on.
          this.rememberBlockSzx(key, b1.szx);
          ans = await this.sendBlock1(target, key, spec, requestWhat(spec, target), b1.szx);
        }
      }
      const b2 = ans.opts.block2;
      if (b2 && b2.more && codeClass(ans.res.code) === 2) {
        // Observe: blocks come with a fresh token so they cannot collide with notifications of the observation.
        ans = await this.fetchBlocks(target, spec, ans, spec.observe === undefined, requestWhat(spec, target));
      }
      return ans.res;
    } finally {
      this.releaseSlot(key);
    }
  }

  // ------------------------------------------------------------------------------- NSTART: requests per peer (4.7)

  /** Takes one of the peer's `nstart` slots if one is free and nobody waits for it. */
  private tryAcquire(key: string): boolean {
    const n = this.inFlight.get(key);
    if (n === undefined) {
      this.inFlight.set(key, 1);
      return true;
    }
    if (n < this.params.nstart && !this.waiting.has(key)) {
      this.inFlight.set(key, n + 1);
      return true;
    }
    return false;
  }

  /** Queues a request until a slot of its peer is handed to it; rejects when the queue is full, on its deadline, on close. */
  private waitForSlot(key: string, spec: ExchangeSpec, target: Peer): Promise<void> {
    if (this.closed) return Promise.reject(new CancelledError(`${requestWhat(spec, target)}: endpoint closed`));
    const p = this.params;
    let q = this.waiting.get(key);
    const length = q === undefined ? 0 : q.items.length - q.head;
    if (length >= p.maxQueuedPerPeer) {
      this.counters.queueRejected++;
      return Promise.reject(new PeerQueueFullError(requestWhat(spec, target), key, p.nstart, p.maxQueuedPerPeer));
    }
    if (q === undefined) {
      q = { items: [], head: 0 };
      this.waiting.set(key, q);
    }
    const queue = q;
    return new Promise<void>((resolve, reject) => {
      queue.items.push({ deadline: this.wheel.now() + spec.timeoutMs, timeoutMs: spec.timeoutMs, what: requestWhat(spec, target), resolve, reject });
      this.queuedCount++;
      this.ensureHousekeeping();
    });
  }

  /** A request of this peer is done: its slot goes to the oldest waiter still in time, or is freed. */
  private releaseSlot(key: string): void {
    const q = this.waiting.get(key);
    if (q !== undefined) {
      const now = this.wheel.now();
      while (q.head < q.items.length) {
        const w = q.items[q.head];
        q.items[q.head++] = undefined as unknown as Waiter;
        this.queuedCount--;
        if (w.deadline <= now) {
          w.reject(queueTimeout(w));
          continue;
        }
        if (q.head === q.items.length) this.waiting.delete(key);
        else if (q.head >= 1024 && q.head * 2 >= q.items.length) {
          q.items = q.items.slice(q.head);
          q.head = 0;
        }
        w.resolve(); // the slot passes on: the peer's count stays
        return;
      }
      this.waiting.delete(key);
    }
    const n = this.inFlight.get(key);
    if (n === undefined) return;
    if (n <= 1) this.inFlight.delete(key);
    else this.inFlight.set(key, n - 1);
  }

  /** Housekeeping: queued requests past their deadline reject with TimeoutError (no timer per request or peer). */
  private sweepQueues(now: number): void {
    for (const [key, q] of this.waiting) {
      let expired = false;
      for (let i = q.head; i < q.items.length; i++) {
        if (q.items[i].deadline <= now) {
          expired = true;
          break;
        }
      }
      if (!expired) continue;
      const keep: Waiter[] = [];
      for (let i = q.head; i < q.items.length; i++) {
        const w = q.items[i];
        if (w.deadline > now) keep.push(w);
        else {
          this.queuedCount--;
          w.reject(queueTimeout(w));
        }
      }
      if (keep.length === 0) {
        // Nobody waits any more: the peer keeps only its in-flight count.
        this.waiting.delete(key);
      } else {
        q.items = keep;
        q.head = 0;
      }
    }
  }

  // ---------------------------------------------------------------------------- peers' block sizes (RFC 7959 2.9.3)

  /** The Block1 SZX to start a body to this peer with: ours, or the smaller one it asked for. */
  private blockSzxFor(key: string): number {
    const m = this.peerSzx;
    if (m === null) return this.params.blockSzx;
    const v = m.get(key, this.wheel.now());
    return v === undefined ? this.params.blockSzx : v;
  }

  private rememberBlockSzx(key: string, szx: number): void {
    if (szx >= this.params.blockSzx) return;
    let m = this.peerSzx;
    if (m === null) m = this.peerSzx = new FifoMap<number>({ capacity: PEER_BLOCK_SIZES, ttlMs: PEER_BLOCK_SIZE_TTL_MS });
    const old = m.get(key, this.wheel.now());
    if (old === undefined || szx < old) m.set(key, szx, this.wheel.now());
  }

  /** Validates an OutgoingRequest into an ExchangeSpec; throws typed errors. */
  private toSpec(req: OutgoingRequest): ExchangeSpec {
    if (!req || typeof req !== 'object') throw new EndpointStateError('request must be an object');
    if (!Object.prototype.hasOwnProperty.call(METHOD_CODES, req.method)) {
      throw new EndpointStateError(`unknown method ${String(req.method)}`);
    }
    let path: string[];
    try {
      path = pathSegments(req.path ?? []);
    } catch (err) {
      throw new EndpointStateError(`${req.method}: bad path: ${(err as Error).message}`);
    }
    const query = req.query ?? [];
    if (!Array.isArray(query)) throw new EndpointStateError(`${req.method}: query must be an array of strings`);
    const payload = req.payload ?? EMPTY;
    if (!Buffer.isBuffer(payload)) throw new EndpointStateError(`${req.method}: payload must be a Buffer`);
    if (req.token !== undefined && (!Buffer.isBuffer(req.token) || req.token.length < 1 || req.token.length > 8)) {
      throw new EndpointStateError(`${req.method}: token must be a Buffer of 1 to 8 bytes`);
    }
    const timeoutMs = req.timeoutMs ?? this.params.requestTimeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new EndpointStateError(`${req.method}: timeoutMs must be a positive number`);
    }
    if (req.observe !== undefined && req.observe !== 0 && req.observe !== 1) {
      throw new EndpointStateError(`${req.method}: observe must be 0 or 1`);
    }
    if (payload.length > this.params.maxBodySize) {
      throw new BlockwiseError(`${req.method} /${path.join('/')}`, `payload of ${payload.length} bytes exceeds maxBodySize ${this.params.maxBodySize}`);
    }
    const spec: ExchangeSpec = {
      method: req.method,
      path,
      query,
      contentFormat: req.contentFormat,
      accept: req.accept,
      observe: req.observe,
      payload,
      token: req.token,
      confirmable: req.confirmable !== false,
      timeoutMs,
    };
    return spec;
  }

  /** The peer to send to when its address is an IP literal (validated like {@link resolvePeer}); undefined for a name. */
  private literalPeer(peer: Peer): Peer | undefined {
    if (!peer || typeof peer.address !== 'string') return undefined; // resolvePeer names the problem
    const v = isIP(peer.address);
    if (v === 0 || !Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) return undefined;
    // as mapped(): an IPv4 peer seen from a dual-stack socket is addressed as ::ffff:a.b.c.d
    return v === 4 && this.isIPv6Socket() ? { ...peer, address: '::ffff:' + peer.address } : peer;
  }

  private async resolvePeer(peer: Peer): Promise<Peer> {
    if (!peer || typeof peer.address !== 'string' || !Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) {
      throw new EndpointStateError(`bad peer ${JSON.stringify(peer)}: needs an address and a port from 1 to 65535`);
    }
    const v = isIP(peer.address);
    if (v === 6) return peer;
    if (v === 4) return this.mapped(peer);
    const family = this.isIPv6Socket() ? 6 : 4;
    try {
      const { address } = await dnsPromises.lookup(peer.address, { family });
      return { ...peer, address };
    } catch (err) {
      throw new EndpointStateError(`cannot resolve ${peer.address}: ${(err as Error).message}`, { cause: err });
    }
  }

  private isIPv6Socket(): boolean {
    if (this.v6 === undefined) {
      try {
        this.v6 = this.socket.address().family === 'IPv6';
      } catch {
        return false; // not bound (yet): treat as IPv4, ask again next time
      }
    }
    return this.v6;
  }

  /** An IPv4 peer seen from an IPv6 (dual-stack) socket is addressed as ::ffff:a.b.c.d. */
  private mapped(peer: Peer): Peer {
    return this.isIPv6Socket() && isIP(peer.address) === 4 ? { ...peer, address: '::ffff:' + peer.address } : peer;
  }

  private buildRequestOptions(spec: ExchangeSpec): CoapOption[] {
    const o: CoapOption[] = [];
    try {
      uintOption(Opt.OBSERVE, spec.observe, 3, o);
      stringOptions(Opt.URI_PATH, spec.path, o);
      uintOption(Opt.CONTENT_FORMAT, spec.contentFormat, 2, o);
      stringOptions(Opt.URI_QUERY, spec.query, o);
      uintOption(Opt.ACCEPT, spec.accept, 2, o);
      if (spec.block2) o.push({ number: Opt.BLOCK2, value: encodeBlock(spec.block2.num, spec.block2.more, spec.block2.szx) });
      if (spec.block1) o.push({ number: Opt.BLOCK1, value: encodeBlock(spec.block1.num, spec.block1.more, spec.block1.szx) });
      uintOption(Opt.SIZE1, spec.size1, 4, o);
    } catch (err) {
      if (err instanceof CoapMessageError) throw new EndpointStateError(`${spec.method} /${spec.path.join('/')}: ${err.message}`);
      throw err;
    }
    return o;
  }

  /** One request message and its answer (no block-wise logic). */
  private exchange(
    peer: Peer, spec: ExchangeSpec, onNotification?: (res: ReceivedResponse) => void, options?: CoapOption[], key?: string,
  ): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      if (this.closed) return reject(new CancelledError(`${spec.method} /${spec.path.join('/')}: endpoint closed`));
      const peerKey = key ?? peerKeyOf(peer.address, peer.port);
      let token: Buffer;
      let tokenHex: string;
      if (spec.token) {
        token = spec.token;
        tokenHex = token.toString('hex');
        if (this.pending.has(tokenHex)) {
          return reject(new EndpointStateError(`${spec.method} /${spec.path.join('/')}: token ${tokenHex} is in use by a pending request`));
        }
      } else {
        token = this.newToken();
        tokenHex = this.newTokenHex;
      }
      const pr = new PendingRequest(peer, peerKey, tokenHex, token, spec, resolve, reject, onNotification);
      this.allocMid(pr);
      try {
        pr.bytes = encode({
          type: spec.confirmable ? CON : NON,
          code: METHOD_CODES[spec.method],
          messageId: pr.mid,
          token,
          options: options ?? this.buildRequestOptions(spec),
          payload: spec.payload,
        });
      } catch (err) {
        return reject(err instanceof CoapMessageError ? new EndpointStateError(err.message) : err);
      }
      this.pending.set(tokenHex, pr);
      this.awaitingAck.set(pr.midKey, pr);
      pr.deadline = this.schedule(this.wheel.now() + spec.timeoutMs, this.onDeadline, pr);
      if (spec.confirmable) this.startRetransmission(pr);
      this.send(pr.bytes, peer);
    });
  }

  /** Sends a large request body with Block1 (RFC 7959 2.5); resolves with the answer to the last block. */
  private async sendBlock1(peer: Peer, peerKey: string, spec: ExchangeSpec, what: string, startSzx: number): Promise<Answer> {
    const body = spec.payload;
    const token = spec.token ?? this.newToken();
    let szx = startSzx;
    let offset = 0;
    for (;;) {
      const size = blockSize(szx);
      const num = offset / size;
      const chunk = body.subarray(offset, offset + size);
      const more = offset + chunk.length < body.length;
      const ans = await this.exchange(peer, {
        ...spec,
        token,
        payload: chunk,
        observe: undefined,
        block1: { num, more, szx },
        size1: num === 0 ? body.length : undefined,
      });
      if (!more) return ans;
      const b1 = ans.opts.block1;
      if (ans.res.code === '4.13' && offset === 0 && b1 && b1.szx < szx) {
        // RFC 7959 2.9.3: the server asks for smaller blocks; start over with its size.
        szx = b1.szx;
        this.rememberBlockSzx(peerKey, szx);
        continue;
      }
      // Anything but 2.31 Continue ends the transfer: an error, or the server's final answer (RFC 7959 2.3).
      if (ans.res.code !== '2.31') return ans;
      offset += chunk.length;
      // RFC 7959 2.3: later blocks use the server's preferred (smaller) size; numbering follows the bytes sent.
      if (b1 && b1.szx < szx) {
        szx = b1.szx;
        this.rememberBlockSzx(peerKey, szx);
      }
      if (offset % blockSize(szx) !== 0) throw new BlockwiseError(what, 'block size change does not align with the bytes sent');
    }
  }

  /** Fetches the remaining Block2 blocks of an answer (RFC 7959 2.4) and returns the answer with the whole body. */
  private async fetchBlocks(peer: Peer, spec: ExchangeSpec, first: Answer, sameToken: boolean, what: string): Promise<Answer> {
    const max = this.params.maxBodySize;
    if (first.opts.size2 !== undefined && first.opts.size2 > max) {
      throw new BlockwiseError(what, `announced body of ${first.opts.size2} bytes exceeds maxBodySize ${max}`);
    }
    const parts: Buffer[] = [first.res.payload];
    let received = first.res.payload.length;
    let szx = first.opts.block2!.szx;
    for (;;) {
      const size = blockSize(szx);
      if (received % size !== 0) throw new BlockwiseError(what, `block of unexpected length (${received} bytes received, block size ${size})`);
      const num = received / size;
      const ans = await this.exchange(peer, {
        ...spec,
        token: sameToken ? first.res.token : undefined,
        observe: undefined,
        payload: spec.method === 'FETCH' ? spec.payload : EMPTY,
        contentFormat: spec.method === 'FETCH' ? spec.contentFormat : undefined,
        block1: undefined,
        size1: undefined,
        block2: { num, more: false, szx },
      });
      if (codeClass(ans.res.code) !== 2) return ans;
      const b2 = ans.opts.block2;
      // A server that ignores Block2 sends the whole representation (RFC 7959 2.4).
      if (!b2) return ans;
      if (b2.num * blockSize(b2.szx) !== received) {
        throw new BlockwiseError(what, `asked for block ${num} (size ${size}), got block ${b2.num} (size ${blockSize(b2.szx)})`);
      }
      const etag = first.opts.etag;
      if (etag && ans.opts.etag && !etag.equals(ans.opts.etag)) {
        // RFC 7959 2.4: the representation changed between blocks; the pieces do not belong together.
        throw new BlockwiseError(what, 'the representation changed during the block-wise transfer (ETag differs)');
      }
      received += ans.res.payload.length;
      if (received > max) throw new BlockwiseError(what, `body exceeds maxBodySize ${max}`);
      parts.push(ans.res.payload);
      szx = b2.szx;
      if (!b2.more) break;
    }
    return { res: { ...first.res, payload: Buffer.concat(parts, received) }, opts: first.opts };
  }

  /** Hex of the token the last newToken() returned. */
  private newTokenHex = '';

  private newToken(): Buffer {
    const len = this.params.tokenLength;
    for (;;) {
      if (this.tokenPos + len > this.tokenPool.length) {
        randomFillSync(this.tokenPool);
        this.tokenPos = 0;
      }
      const t = Buffer.allocUnsafe(len);
      this.tokenPool.copy(t, 0, this.tokenPos, this.tokenPos + len);
      this.tokenPos += len;
      const hex = t.toString('hex');
      if (!this.pending.has(hex) && !this.observations.has(hex)) {
        this.newTokenHex = hex;
        return t;
      }
    }
  }

  /** Next message id not waiting for an ACK from that peer (RFC 7252 4.4). */
  private allocMid(o: Outbound): void {
    for (let i = 0; i < 0x10000; i++) {
      this.mid = (this.mid + 1) & 0xffff;
      const key = o.peerKey + '#' + this.mid;
      if (!this.awaitingAck.has(key)) {
        o.mid = this.mid;
        o.midKey = key;
        return;
      }
    }
    throw new EndpointStateError(`no free message id towards ${o.peerKey}`);
  }

  private startRetransmission(o: Outbound): void {
    const p = this.params;
    // RFC 7252 4.2: initial timeout random between ACK_TIMEOUT and ACK_TIMEOUT * ACK_RANDOM_FACTOR, doubled each time.
    o.rto = p.ackTimeoutMs * (1 + Math.random() * (p.ackRandomFactor - 1));
    o.attempts = 0;
    o.timer = this.schedule(this.wheel.now() + o.rto, this.onRetransmit, o);
  }

  private readonly onRetransmit = (o: Outbound): void => {
    this.timerCount--;
    o.timer = null;
    if (this.closed || this.awaitingAck.get(o.midKey) !== o) return;
    if (o.attempts < this.params.maxRetransmit) {
      o.attempts++;
      o.rto *= 2;
      this.counters.retransmissions++;
      o.timer = this.schedule(this.wheel.now() + o.rto, this.onRetransmit, o);
      this.send(o.bytes, o.peer);
      return;
    }
    // The last transmission's timeout passed without an ACK.
    this.awaitingAck.delete(o.midKey);
    if (o instanceof PendingRequest) {
      this.failRequest(o, new TimeoutError(`${o.spec.method} /${o.spec.path.join('/')} to ${o.peerKey}`, Math.round(this.elapsed(o))));
    } else if (o instanceof ConMessage && o.reject) {
      o.reject(new TimeoutError(o.what, Math.round(this.params.maxTransmitWaitMs)));
    }
  };

  private elapsed(o: Outbound): number {
    // Sum of the timeouts waited so far: rto0 * (2^(attempts+1) - 1).
    return (o.rto / 2 ** o.attempts) * (2 ** (o.attempts + 1) - 1);
  }

  private readonly onDeadline = (pr: PendingRequest): void => {
    this.timerCount--;
    pr.deadline = null;
    if (this.pending.get(pr.tokenHex) !== pr) return;
    this.failRequest(pr, new TimeoutError(`${pr.spec.method} /${pr.spec.path.join('/')} to ${pr.peerKey}`, pr.spec.timeoutMs));
  };

  /** Removes every trace of a request. */
  private cleanup(pr: PendingRequest): void {
    if (this.pending.get(pr.tokenHex) === pr) this.pending.delete(pr.tokenHex);
    if (this.awaitingAck.get(pr.midKey) === pr) this.awaitingAck.delete(pr.midKey);
    this.cancelTimer(pr.timer);
    pr.timer = null;
    this.cancelTimer(pr.deadline);
    pr.deadline = null;
  }

  private failRequest(pr: PendingRequest, err: Error): void {
    this.cleanup(pr);
    pr.reject(err);
  }

  private completeRequest(pr: PendingRequest, msg: CoapMessage, opts: MessageOptions, peer: Peer): void {
    this.cleanup(pr);
    const res = toReceived(msg, opts, peer);
    if (pr.onNotification && pr.spec.observe === 0 && opts.observe !== undefined && codeClass(msg.code) === 2) {
      // RFC 7641 3.1: the observation exists once a 2.xx answer carries an Observe option.
      this.observations.set(pr.tokenHex, new Observation(pr.peerKey, pr.spec, pr.onNotification, opts.observe, this.wheel.now()));
    }
    pr.resolve({ res, opts });
  }

  forgetToken(token: Buffer): void {
    if (!Buffer.isBuffer(token)) return;
    this.observations.delete(token.toString('hex'));
  }

  /**
   * Binds the observation with this token to another peer: its notifications are accepted from there only (e.g. the
   * device's Update came from a new address after a NAT rebinding). False when the endpoint holds no such observation.
   */
  rebindToken(token: Buffer, peer: Peer): boolean {
    if (!Buffer.isBuffer(token) || !peer || typeof peer.address !== 'string' || !Number.isInteger(peer.port)) return false;
    const obs = this.observations.get(token.toString('hex'));
    if (obs === undefined) return false;
    obs.peerKey = peerKeyOf(peer.address, peer.port);
    return true;
  }

  // ----------------------------------------------------------------------------------------------------- notifications

  notify(peer: Peer, token: Buffer, res: CoapResponse, confirmable: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new CancelledError('notification: endpoint closed'));
      if (!peer || typeof peer.address !== 'string' || !Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) {
        return reject(new EndpointStateError(`notification: bad peer ${JSON.stringify(peer)}`));
      }
      if (!Buffer.isBuffer(token) || token.length > 8) return reject(new EndpointStateError('notification: token must be a Buffer of 0 to 8 bytes'));
      peer = this.mapped(peer);
      const peerKey = peerKeyOf(peer.address, peer.port);
      const what = `notification ${token.toString('hex')} to ${peerKey}`;
      const o = new ConMessage(peer, peerKey, what, resolve, reject);
      o.token = token;
      this.allocMid(o);
      if (res && Buffer.isBuffer(res.payload) && res.payload.length > this.params.blockSize) this.forgetServedBodies(peerKey);
      try {
        // A notification larger than a block carries the first block; the observer fetches the rest (RFC 7959 3.4) with
        // GETs that the request handler answers afresh (its older bodies for that peer are dropped just above).
        o.bytes = this.encodeResponse(confirmable ? CON : NON, o.mid, token, res, null);
      } catch (err) {
        return reject(err instanceof CoapMessageError ? new EndpointStateError(`${what}: ${err.message}`) : err);
      }
      if (confirmable) {
        this.awaitingAck.set(o.midKey, o);
        this.startRetransmission(o);
        this.send(o.bytes, peer);
      } else {
        // Remembered for NON_LIFETIME: the observer may answer it with a RST (RFC 7641 3.6).
        this.rememberNonNotification(o.midKey, token);
        this.send(o.bytes, peer);
        resolve();
      }
    });
  }

  private rememberNonNotification(midKey: string, token: Buffer): void {
    let m = this.nonNotifs;
    if (m === null) {
      const p = this.params;
      m = this.nonNotifs = new FifoMap<Buffer>({ capacity: p.nonNotificationCapacity, ttlMs: p.nonLifetimeMs });
    }
    m.set(midKey, token, this.wheel.now());
    this.ensureHousekeeping();
  }

  /** RFC 7641 3.6 / 4.5: a RST to one of our notifications; the observer is gone. */
  private observerGone(token: Buffer, rinfo: Peer, confirmable: boolean): void {
    this.counters.observersGone++;
    const h = this.observerGoneHandler;
    if (h === null) return;
    try {
      h({ peer: toPeer(rinfo), token, confirmable });
    } catch {
      this.counters.handlerErrors++;
    }
  }

  // ---------------------------------------------------------------------------------------------------- receiving

  private readonly onSocketError = (): void => {
    this.counters.sendErrors++;
  };

  private readonly onSent = (err: Error | null): void => {
    if (err) this.counters.sendErrors++;
  };

  private send(buf: Buffer, peer: Peer): void {
    if (this.closed) return;
    this.counters.messagesOut++;
    try {
      this.socket.send(buf, peer.port, peer.address, this.onSent);
    } catch {
      this.counters.sendErrors++;
    }
  }

  private readonly onMessage = (buf: Buffer, rinfo: Peer & { size?: number }): void => {
    if (this.closed) return;
    this.counters.messagesIn++;
    try {
      this.receive(buf, rinfo);
    } catch {
      this.counters.internalErrors++; // a bug must not take the socket or the process down
    }
  };

  /** Runs `fn`; an unexpected throw (a bug) is counted instead of taking the socket or the process down. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.counters.internalErrors++;
    }
  }

  private receive(buf: Buffer, rinfo: Peer): void {
    const peerKey = peerKeyOf(rinfo.address, rinfo.port);
    let msg: CoapMessage;
    try {
      msg = decode(buf);
    } catch (err) {
      this.counters.malformed++;
      // RFC 7252 4.2/4.3: a malformed CON is rejected with a RST; NON, ACK, RST (and headerless noise) are ignored.
      const h = err instanceof CoapMessageError ? err.header : undefined;
      if (h && h.type === CON) this.send(emptyMessage(RST, h.messageId), rinfo);
      return;
    }
    const cls = codeClass(msg.code);
    if (msg.code === '0.00') return this.onEmpty(msg, peerKey, rinfo);
    if (msg.type === ACK || msg.type === RST) {
      if (msg.type === RST || cls === 0) {
        // RFC 7252 4.2: a RST carries no content; an ACK carrying a request is a format error: ignore both.
        this.counters.malformed++;
        return;
      }
    }
    if (cls === 0) return this.onRequest(msg, peerKey, rinfo);
    if (cls === 2 || cls === 4 || cls === 5) return this.onResponse(msg, peerKey, rinfo);
    // Reserved classes 1, 3, 6, 7 (RFC 7252 12.1): reject a CON, ignore the rest.
    this.counters.malformed++;
    if (msg.type === CON) this.send(emptyMessage(RST, msg.messageId), rinfo);
  }

  private onEmpty(msg: CoapMessage, peerKey: string, rinfo: Peer): void {
    if (msg.type === CON) {
      // CoAP ping (RFC 7252 4.3): answered with a RST.
      this.send(emptyMessage(RST, msg.messageId), rinfo);
      return;
    }
    if (msg.type === NON) return;
    const midKey = peerKey + '#' + msg.messageId;
    const o = this.awaitingAck.get(midKey);
    if (!o) {
      if (msg.type === RST && this.nonNotifs !== null) {
        // RFC 7641 3.6: "if the notification was non-confirmable, the client MAY reject it with RST".
        const token = this.nonNotifs.get(midKey, this.wheel.now());
        if (token !== undefined) {
          this.nonNotifs.delete(midKey);
          this.observerGone(token, rinfo, false);
          return;
        }
      }
      this.counters.unmatched++;
      return;
    }
    if (msg.type === ACK) this.onAcked(o, null, null, rinfo);
    else this.onReset(o, rinfo);
  }

  /** An ACK for one of our CON messages; `msg` set for a piggybacked response. */
  private onAcked(o: Outbound, msg: CoapMessage | null, opts: MessageOptions | null, rinfo: Peer): void {
    if (o instanceof PendingRequest) {
      if (!o.spec.confirmable) {
        // An ACK to a NON request is nonsense: ignore it.
        this.counters.unmatched++;
        return;
      }
      this.awaitingAck.delete(o.midKey);
      this.cancelTimer(o.timer);
      o.timer = null;
      o.acked = true;
      if (msg && opts && msg.token.equals(o.token)) this.completeRequest(o, msg, opts, rinfo);
      // Empty ACK: the answer comes as a separate response (RFC 7252 5.2.2), until the deadline.
      return;
    }
    this.awaitingAck.delete(o.midKey);
    this.cancelTimer(o.timer);
    o.timer = null;
    if (o instanceof ConMessage && o.resolve) o.resolve();
  }

  private onReset(o: Outbound, rinfo: Peer): void {
    this.awaitingAck.delete(o.midKey);
    this.cancelTimer(o.timer);
    o.timer = null;
    if (o instanceof PendingRequest) {
      // Our choice: a RST to a request means the peer rejected it (RFC 7252 4.2: it lacks context to process it).
      this.failRequest(o, new CancelledError(`${o.spec.method} /${o.spec.path.join('/')} to ${o.peerKey}: rejected by the peer (RST)`));
    } else if (o instanceof ConMessage && o.reject) {
      // RFC 7641 3.6/4.5: a RST to a notification means the observer is gone.
      if (o.token !== null) this.observerGone(o.token, rinfo, true);
      o.reject(new CancelledError(`${o.what}: rejected by the peer (RST), the observer is gone`));
    }
  }

  // ------------------------------------------------------------------------------------------------- responses in

  private onResponse(msg: CoapMessage, peerKey: string, rinfo: Peer): void {
    const opts = readOptions(msg.options);
    if (msg.type === ACK) {
      const o = this.awaitingAck.get(peerKey + '#' + msg.messageId);
      if (!o) {
        this.counters.unmatched++;
        return;
      }
      // RFC 7252 5.4.1: an unrecognized critical option in a piggybacked response rejects the response (the ACK still
      // acknowledges our request: we stop retransmitting and wait until the deadline).
      if (opts.badCritical >= 0) return this.onAcked(o, null, null, rinfo);
      return this.onAcked(o, msg, opts, rinfo);
    }
    // CON or NON response: a separate response, or a notification.
    const now = this.wheel.now();
    const seen = this.dedup.get(rinfo.address, rinfo.port, msg.messageId, now);
    if (seen !== undefined) {
      // RFC 7252 4.5: a duplicate is acknowledged again (same ACK/RST) and not delivered twice.
      this.counters.duplicates++;
      if (msg.type === CON) this.resendAnswer(seen, msg.messageId, rinfo);
      return;
    }
    let accepted: boolean;
    const tokenHex = msg.token.toString('hex');
    const pr = opts.badCritical >= 0 ? undefined : this.pending.get(tokenHex);
    const obs = opts.badCritical >= 0 ? undefined : this.observations.get(tokenHex);
    let deliver: (() => void) | null = null;
    if (pr && pr.peerKey === peerKey) {
      accepted = true;
      // A CON response before the ACK of our request: the ACK was lost, the response acknowledges (RFC 7252 5.2.2).
      deliver = () => this.completeRequest(pr, msg, opts, rinfo);
    } else if (obs && obs.peerKey === peerKey) {
      accepted = true;
      deliver = () => this.onNotification(tokenHex, obs, msg, opts, rinfo);
    } else if (pr !== undefined || obs !== undefined) {
      // RFC 7252 5.3.2: a response matches by token and by coming from the endpoint the request went to (RFC 7641 3.2
      // for notifications). Our token from elsewhere: ignored, not remembered (see the header for why no RST).
      this.counters.wrongSource++;
      return;
    } else if (opts.badCritical < 0 && this.notificationHandler) {
      let verdict: boolean | null;
      try {
        verdict = this.notificationHandler(msg.token, toReceived(msg, opts, rinfo));
      } catch {
        this.counters.handlerErrors++;
        verdict = false;
      }
      if (verdict === null) {
        // The handler knows the token but not this source (e.g. a restored observation): ignored like above.
        this.counters.wrongSource++;
        return;
      }
      accepted = verdict === true;
    } else {
      this.counters.unmatched++;
      accepted = false;
    }
    // RFC 7252 4.2/4.3 and 5.3.2: accept with an ACK (CON), reject with a RST (CON, and NON so the peer stops sending).
    if (msg.type === CON || !accepted) this.send(emptyMessage(accepted ? ACK : RST, msg.messageId), rinfo);
    this.dedup.set(rinfo.address, rinfo.port, msg.messageId, msg.type !== CON ? NON_MARK : accepted ? ACK_MARK : RST_MARK, now);
    this.ensureHousekeeping();
    if (deliver) deliver();
  }

  private onNotification(tokenHex: string, obs: Observation, msg: CoapMessage, opts: MessageOptions, rinfo: Peer): void {
    const now = this.wheel.now();
    if (opts.observe === undefined || codeClass(msg.code) !== 2) {
      // RFC 7641 3.2: an answer without Observe (or an error) ends the observation; deliver it, then forget the token.
      this.observations.delete(tokenHex);
      this.deliverNotification(obs, toReceived(msg, opts, rinfo));
      return;
    }
    if (!isFresh(obs.seq, obs.time, opts.observe, now)) return; // RFC 7641 3.4: older than what we delivered
    obs.seq = opts.observe;
    obs.time = now;
    const gen = ++obs.gen;
    const res = toReceived(msg, opts, rinfo);
    if (!(opts.block2 && opts.block2.more)) {
      this.deliverNotification(obs, res);
      return;
    }
    const what = `notification blocks of /${obs.spec.path.join('/')} from ${obs.peerKey}`;
    this.fetchNotificationBlocks(obs.peerKey, rinfo, obs.spec, { res, opts }, what).then(
      (full) => {
        if (obs.gen === gen && this.observations.get(tokenHex) === obs && codeClass(full.res.code) === 2) {
          this.deliverNotification(obs, { ...full.res, observe: opts.observe });
        }
      },
      () => {
        /* blocks could not be fetched: the notification is lost, a later one will come */
      },
    );
  }

  /** The rest of a notification's body: requests to the peer like any other, so they take one of its NSTART slots. */
  private async fetchNotificationBlocks(key: string, peer: Peer, spec: ExchangeSpec, first: Answer, what: string): Promise<Answer> {
    if (!this.tryAcquire(key)) await this.waitForSlot(key, spec, toPeer(peer));
    try {
      return await this.fetchBlocks(peer, spec, first, false, what);
    } finally {
      this.releaseSlot(key);
    }
  }

  private deliverNotification(obs: Observation, res: ReceivedResponse): void {
    try {
      obs.onNotification(res);
    } catch {
      this.counters.handlerErrors++;
    }
  }

  // -------------------------------------------------------------------------------------------------- requests in

  private onRequest(msg: CoapMessage, peerKey: string, rinfo: Peer): void {
    const now = this.wheel.now();
    const seen = this.dedup.get(rinfo.address, rinfo.port, msg.messageId, now);
    if (seen !== undefined) {
      // RFC 7252 4.5: same answer bytes again for a duplicate CON; NON duplicates and CONs still in the handler: dropped.
      this.counters.duplicates++;
      if (msg.type === CON) this.resendAnswer(seen, msg.messageId, rinfo);
      return;
    }
    const confirmable = msg.type === CON;
    this.dedup.set(rinfo.address, rinfo.port, msg.messageId, confirmable ? PENDING_MARK : NON_MARK, now);
    this.ensureHousekeeping();
    const opts = readOptions(msg.options);
    const method = METHOD_BY_CODE[msg.code];
    const peer = toPeer(rinfo);
    const ex = new ServerExchange(peer, peerKey, msg.messageId, msg.token, confirmable, method ?? 'GET', opts);
    // RFC 7252 5.8: an unknown method code gets 4.05.
    if (!method) return this.answer(ex, { code: '4.05' });
    if (opts.badCritical >= 0) {
      // RFC 7252 5.4.1: 4.02 for a CON request; a NON request is ignored.
      if (!confirmable) return;
      return this.answer(ex, { code: '4.02', payload: Buffer.from(`unrecognized critical option ${opts.badCritical}`) });
    }
    if (opts.proxy) return this.answer(ex, { code: '5.05' }); // RFC 7252 5.7.2: we are no proxy
    if ((opts.block1 && opts.block1.szx === 7) || (opts.block2 && opts.block2.szx === 7)) {
      // SZX 7 is reserved over UDP (RFC 7959 2.2; BERT is for reliable transports, RFC 8323).
      return this.answer(ex, { code: '4.00', payload: Buffer.from('block size exponent 7 is reserved') });
    }
    let payload = msg.payload;
    if (opts.block1) {
      const body = this.receiveBlock1(ex, opts.block1, msg, method);
      if (body === null) return; // answered (2.31, 4.08, 4.13)
      payload = body;
    }
    if (opts.block2 && opts.block2.num > 0 && opts.block1 === undefined) {
      const cached = this.block2.get(this.block2Key(peerKey, method, opts), now);
      if (cached) return this.answerBody(ex, cached);
      if (method !== 'GET' && method !== 'FETCH') {
        // The body is gone and the request cannot be replayed safely (RFC 7959 2.9.2).
        return this.answer(ex, { code: '4.08', payload: Buffer.from('block-wise body expired, start again with block 0') });
      }
    }
    const handler = this.requestHandler;
    if (!handler) return this.answer(ex, { code: '4.04' });
    const req: CoapRequest = {
      method,
      path: opts.uriPath,
      query: opts.uriQuery,
      payload,
      token: msg.token,
      confirmable,
      peer,
    };
    if (opts.contentFormat !== undefined) req.contentFormat = opts.contentFormat;
    if (opts.accept !== undefined) req.accept = opts.accept;
    if (opts.observe !== undefined) req.observe = opts.observe;
    this.counters.handled++;
    let result: CoapResponse | Promise<CoapResponse>;
    try {
      result = handler(req);
    } catch (err) {
      return this.answerError(ex, err);
    }
    if (result && typeof (result as Promise<CoapResponse>).then === 'function') {
      if (confirmable) {
        const delay = this.params.separateResponseDelayMs;
        if (delay <= 0) this.sendEmptyAck(ex);
        else ex.timer = this.schedule(now + delay, this.onSeparateDelay, ex);
      }
      (result as Promise<CoapResponse>).then(
        (res) => this.guard(() => this.answer(ex, res)),
        (err) => this.guard(() => this.answerError(ex, err)),
      );
    } else {
      this.answer(ex, result as CoapResponse);
    }
  }

  /**
   * One block of a request body (RFC 7959 2.5). Returns the whole body after the last block, or null when the block was
   * answered here (2.31 Continue, 4.08 Request Entity Incomplete, 4.13 Request Entity Too Large).
   */
  private receiveBlock1(ex: ServerExchange, b1: { num: number; more: boolean; szx: number }, msg: CoapMessage, method: Method): Buffer | null {
    const key = this.block2Key(ex.peerKey, method, ex.opts);
    const now = this.wheel.now();
    const size = blockSize(b1.szx);
    const max = this.params.maxBodySize;
    const echo = encodeBlock(b1.num, b1.more, b1.szx);
    const tooLarge = (): null => {
      this.block1.delete(key);
      this.answer(ex, { code: '4.13', payload: Buffer.from(`body larger than ${max} bytes`) }, [{ number: Opt.SIZE1, value: uintBytes(max) }]);
      return null;
    };
    if (ex.opts.size1 !== undefined && ex.opts.size1 > max) return tooLarge();
    if (b1.more && msg.payload.length !== size) {
      this.block1.delete(key);
      this.answer(ex, { code: '4.00', payload: Buffer.from(`block ${b1.num} has ${msg.payload.length} bytes, expected ${size}`) });
      return null;
    }
    let a: Assembly | undefined;
    if (b1.num === 0) {
      a = { parts: [], received: 0 };
    } else {
      a = this.block1.get(key, now);
      if (!a || a.received !== b1.num * size) {
        // RFC 7959 2.9.2: a block that does not continue what we hold.
        this.block1.delete(key);
        this.answer(ex, { code: '4.08', payload: Buffer.from(`block ${b1.num} does not follow the ${a ? a.received : 0} bytes received`) });
        return null;
      }
    }
    if (a.received + msg.payload.length > max) return tooLarge();
    a.parts.push(msg.payload);
    a.received += msg.payload.length;
    if (b1.more) {
      // Re-inserted: the age counts from the last block, and the byte cap sees the new size.
      this.block1.set(key, a, now);
      this.ensureHousekeeping();
      if (this.block1.get(key) !== a) return tooLarge(); // evicted by the total byte cap at once
      this.answer(ex, { code: '2.31' }, [{ number: Opt.BLOCK1, value: echo }]);
      return null;
    }
    this.block1.delete(key);
    ex.block1Echo = echo;
    return a.parts.length === 1 ? a.parts[0] : Buffer.concat(a.parts, a.received);
  }

  /** Drops the bodies served to a peer (a new representation is being notified). Scans at most maxBlockTransfers entries. */
  private forgetServedBodies(peerKey: string): void {
    const prefix = peerKey + ' ';
    const stale: string[] = [];
    for (const [k] of this.block2.entries()) if (k.startsWith(prefix)) stale.push(k);
    for (const k of stale) this.block2.delete(k);
  }

  /** Sends again what a duplicate CON got the first time (nothing while its handler still runs). */
  private resendAnswer(seen: Buffer, mid: number, rinfo: Peer): void {
    if (seen === ACK_MARK) this.send(emptyMessage(ACK, mid), rinfo);
    else if (seen === RST_MARK) this.send(emptyMessage(RST, mid), rinfo);
    else if (seen.length > 0) this.send(seen, rinfo);
  }

  private block2Key(peerKey: string, method: Method, opts: MessageOptions): string {
    return `${peerKey} ${method} /${opts.uriPath.join('/')}?${opts.uriQuery.join('&')}#${opts.accept ?? ''}`;
  }

  private readonly onSeparateDelay = (ex: ServerExchange): void => {
    this.timerCount--;
    ex.timer = null;
    if (this.closed || ex.state !== 0) return;
    this.sendEmptyAck(ex);
  };

  /** RFC 7252 5.2.2: the empty ACK of a separate response; duplicates of the request get it again. */
  private sendEmptyAck(ex: ServerExchange): void {
    ex.state = 1;
    this.dedup.update(ex.peer.address, ex.peer.port, ex.mid, ACK_MARK);
    this.send(emptyMessage(ACK, ex.mid), ex.peer);
  }

  private answerError(ex: ServerExchange, err: unknown): void {
    this.counters.handlerErrors++;
    if (err instanceof CoapResponseError && isResponseCode(err.coapCode) && codeClass(err.coapCode) !== 2) {
      this.answer(ex, { code: err.coapCode, payload: err.diagnostic ? diagnostic(err.diagnostic) : undefined });
      return;
    }
    this.answer(ex, { code: '5.00', payload: diagnostic(err instanceof Error ? err.message : String(err)) });
  }

  /** Answers a request: piggybacked in the ACK, as a separate CON response, or as a NON response. Block2 when large. */
  private answer(ex: ServerExchange, res: CoapResponse, extra?: CoapOption[]): void {
    if (ex.state === 2 || this.closed) return;
    if (ex.timer) {
      this.cancelTimer(ex.timer);
      ex.timer = null;
    }
    if (!res || typeof res !== 'object' || !isResponseCode(res.code)) {
      this.counters.handlerErrors++;
      res = { code: '5.00', payload: diagnostic(`handler returned an invalid response code ${res && typeof res === 'object' ? String(res.code) : typeof res}`) };
    }
    const raw: unknown = res.payload ?? EMPTY;
    let payload: Buffer;
    if (Buffer.isBuffer(raw)) payload = raw;
    else {
      if (raw instanceof Uint8Array) {
        payload = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
        res = { ...res, payload };
      } else {
        this.counters.handlerErrors++;
        res = { code: '5.00', payload: diagnostic('handler returned a payload that is not a Buffer') };
        payload = res.payload!;
      }
    }
    const b2 = ex.opts.block2;
    const szx = b2 ? Math.min(b2.szx, this.params.blockSzx) : this.params.blockSzx;
    if (payload.length > blockSize(szx) || (b2 && b2.num > 0)) {
      const body: ServedBody = { code: res.code, body: payload, etag: etagOf(payload) };
      if (res.contentFormat !== undefined) body.contentFormat = res.contentFormat;
      if (res.maxAge !== undefined) body.maxAge = res.maxAge;
      if (res.observe !== undefined) body.observe = res.observe;
      if (res.locationPath !== undefined) body.locationPath = res.locationPath;
      if (payload.length > blockSize(szx) && codeClass(res.code) === 2 && payload.length <= this.params.maxBlockBytes) {
        this.block2.set(this.block2Key(ex.peerKey, ex.method, ex.opts), body, this.wheel.now());
        this.ensureHousekeeping();
      }
      return this.answerBody(ex, body, extra);
    }
    this.sendAnswer(ex, res, extra);
  }

  /** Serves the block the request asks for (block 0 when it asks for none) of a body. */
  private answerBody(ex: ServerExchange, body: ServedBody, extra?: CoapOption[]): void {
    const b2 = ex.opts.block2;
    const szx = b2 ? Math.min(b2.szx, this.params.blockSzx) : this.params.blockSzx;
    const size = blockSize(szx);
    // A request for a smaller size than an earlier one renumbers: block num of size b2 starts at byte num * size(b2.szx).
    const offset = b2 ? b2.num * blockSize(b2.szx) : 0;
    if (offset > 0 && offset >= body.body.length) {
      this.sendAnswer(ex, { code: '4.02', payload: diagnostic(`block ${b2!.num} lies beyond the body of ${body.body.length} bytes`) }, extra);
      return;
    }
    const num = offset / size;
    const chunk = body.body.subarray(offset, offset + size);
    const more = offset + chunk.length < body.body.length;
    const o: CoapOption[] = extra ? [...extra] : [];
    o.push({ number: Opt.BLOCK2, value: encodeBlock(num, more, szx) });
    o.push({ number: Opt.ETAG, value: body.etag });
    if (offset === 0) o.push({ number: Opt.SIZE2, value: uintBytes(body.body.length) });
    // The last block served: the body is no longer needed (a retransmitted request is answered from the dedup cache).
    if (!more && offset > 0) this.block2.delete(this.block2Key(ex.peerKey, ex.method, ex.opts));
    const { etag: _etag, body: _body, ...fields } = body;
    // Later blocks are fetched without Observe (RFC 7959 3.4): their answers carry none either (RFC 7641 3.1).
    if (ex.opts.observe === undefined) delete fields.observe;
    this.sendAnswer(ex, { ...fields, payload: chunk }, o);
  }

  /** Encodes and sends the answer of an exchange (the single place where an answer leaves). */
  private sendAnswer(ex: ServerExchange, res: CoapResponse, extra: CoapOption[] | undefined): void {
    const withEcho = ex.block1Echo ? [...(extra ?? []), { number: Opt.BLOCK1, value: ex.block1Echo }] : extra;
    let type: MessageType;
    let mid: number;
    let separate: ConMessage | null = null;
    if (ex.confirmable && ex.state === 0) {
      type = ACK; // piggybacked (RFC 7252 5.2.1)
      mid = ex.mid;
    } else {
      // Separate CON response after the empty ACK (5.2.2), or NON answer to a NON request (5.2.3).
      type = ex.confirmable ? CON : NON;
      separate = new ConMessage(ex.peer, ex.peerKey, `response to ${ex.method} from ${ex.peerKey}`, null, null);
      this.allocMid(separate);
      mid = separate.mid;
    }
    let bytes: Buffer;
    try {
      bytes = this.encodeResponse(type, mid, ex.token, res, withEcho ?? null);
    } catch (err) {
      this.counters.handlerErrors++;
      bytes = this.encodeResponse(type, mid, ex.token, { code: '5.00', payload: diagnostic((err as Error).message) }, null);
    }
    ex.state = 2;
    if (type === ACK) this.dedup.update(ex.peer.address, ex.peer.port, ex.mid, bytes);
    if (separate && type === CON) {
      separate.bytes = bytes;
      this.awaitingAck.set(separate.midKey, separate);
      this.startRetransmission(separate);
    }
    this.send(bytes, ex.peer);
  }

  /** Encodes a response or notification message; a payload over the block size carries its first block. */
  private encodeResponse(type: MessageType, mid: number, token: Buffer, res: CoapResponse, extra: CoapOption[] | null): Buffer {
    if (!res || typeof res !== 'object' || !isResponseCode(res.code)) {
      throw new CoapMessageError(`invalid response code ${res && typeof res === 'object' ? String(res.code) : typeof res}`);
    }
    const o: CoapOption[] = extra ? [...extra] : [];
    if (res.observe !== undefined) {
      if (!Number.isInteger(res.observe) || res.observe < 0) throw new CoapMessageError(`invalid observe value ${res.observe}`);
      o.push({ number: Opt.OBSERVE, value: uintBytes(res.observe & OBSERVE_MAX) });
    }
    if (res.locationPath) stringOptions(Opt.LOCATION_PATH, res.locationPath, o);
    uintOption(Opt.CONTENT_FORMAT, res.contentFormat, 2, o);
    uintOption(Opt.MAX_AGE, res.maxAge, 4, o);
    let payload = res.payload ?? EMPTY;
    if (!Buffer.isBuffer(payload)) throw new CoapMessageError('payload must be a Buffer');
    if (payload.length > this.params.blockSize && !o.some((x) => x.number === Opt.BLOCK2)) {
      o.push({ number: Opt.BLOCK2, value: encodeBlock(0, true, this.params.blockSzx) });
      o.push({ number: Opt.ETAG, value: etagOf(payload) });
      o.push({ number: Opt.SIZE2, value: uintBytes(payload.length) });
      payload = payload.subarray(0, this.params.blockSize);
    }
    return encode({ type, code: res.code, messageId: mid, token, options: o, payload });
  }

  // ---------------------------------------------------------------------------------------------- timers, closing

  private schedule<T>(at: number, cb: (arg: T) => void, arg: T): TimerHandle {
    this.timerCount++;
    return this.wheel.schedule(at, cb, arg);
  }

  private cancelTimer(h: TimerHandle | null): void {
    if (h && this.wheel.cancel(h)) this.timerCount--;
  }

  private ensureHousekeeping(): void {
    if (this.housekeeping !== null || this.closed) return;
    this.housekeeping = this.schedule(this.wheel.now() + this.housekeepingMs, this.onHousekeeping, null);
  }

  private readonly onHousekeeping = (): void => {
    this.timerCount--;
    this.housekeeping = null;
    if (this.closed) return;
    const now = this.wheel.now();
    this.dedup.sweep(now);
    this.block1.sweep(now);
    this.block2.sweep(now);
    const non = this.nonNotifs;
    if (non !== null) non.sweep(now);
    if (this.waiting.size > 0) this.sweepQueues(now);
    if (this.dedup.size > 0 || this.block1.size > 0 || this.block2.size > 0 || (non !== null && non.size > 0) || this.waiting.size > 0) {
      this.ensureHousekeeping();
    }
  };

  /**
   * Closes the endpoint: pending requests and CON notifications reject with CancelledError, state is dropped, timers are
   * cancelled, and the socket is closed (unless `closeSocket: false`).
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closed = true;
    this.socket.removeListener('message', this.onMessage);
    const err = (what: string) => new CancelledError(`${what}: endpoint closed`);
    // Waiters first, so that requests failing below hand their slot to nobody.
    const queues = [...this.waiting.values()];
    this.waiting.clear();
    this.queuedCount = 0;
    for (const q of queues) for (let i = q.head; i < q.items.length; i++) q.items[i].reject(err(q.items[i].what));
    for (const pr of [...this.pending.values()]) this.failRequest(pr, err(`${pr.spec.method} /${pr.spec.path.join('/')} to ${pr.peerKey}`));
    for (const o of this.awaitingAck.values()) {
      this.cancelTimer(o.timer);
      if (o instanceof ConMessage && o.reject) o.reject(err(o.what));
    }
    this.awaitingAck.clear();
    this.observations.clear();
    this.dedup.clear();
    this.block1.clear();
    this.block2.clear();
    this.nonNotifs = null;
    this.cancelTimer(this.housekeeping);
    this.housekeeping = null;
    if (this.ownWheel) {
      this.wheel.close();
      this.timerCount = 0;
    }
    this.closePromise = new Promise<void>((resolve) => {
      if (!this.params.closeSocket) {
        this.socket.removeListener('error', this.onSocketError);
        return resolve();
      }
      try {
        this.socket.close(() => {
          this.socket.removeListener('error', this.onSocketError);
          resolve();
        });
      } catch {
        this.socket.removeListener('error', this.onSocketError);
        resolve();
      }
    });
    return this.closePromise;
  }
}

// ------------------------------------------------------------------------------------------------------- helpers

function toPeer(rinfo: Peer): Peer {
  const p: Peer = { address: rinfo.address, port: rinfo.port };
  if (rinfo.family === 'IPv4' || rinfo.family === 'IPv6') p.family = rinfo.family;
  if (rinfo.identity !== undefined) p.identity = rinfo.identity;
  return p;
}

function toReceived(msg: CoapMessage, opts: MessageOptions, rinfo: Peer): ReceivedResponse {
  const r: ReceivedResponse = { code: msg.code, payload: msg.payload, token: msg.token, peer: toPeer(rinfo) };
  if (opts.contentFormat !== undefined) r.contentFormat = opts.contentFormat;
  if (opts.locationPath.length > 0) r.locationPath = opts.locationPath;
  if (opts.observe !== undefined) r.observe = opts.observe;
  if (opts.maxAge !== undefined) r.maxAge = opts.maxAge;
  return r;
}

/** A 4-byte ETag of a body: FNV-1a 32-bit (identifies a representation across blocks; not a security measure). */
function etagOf(body: Buffer): Buffer {
  let h = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) h = Math.imul(h ^ body[i], 0x01000193);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(h >>> 0, 0);
  return b;
}

function uintBytes(n: number): Buffer {
  if (n === 0) return EMPTY;
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n % 256);
    n = Math.floor(n / 256);
  }
  return Buffer.from(out);
}

/** Diagnostic payload (RFC 7252 5.5.2): UTF-8 text, kept short. */
function diagnostic(text: string): Buffer {
  const b = Buffer.from(text, 'utf8');
  return b.length <= DIAGNOSTIC_MAX ? b : b.subarray(0, DIAGNOSTIC_MAX);
}

/** A queued request whose deadline passed before a slot of its peer came free (RFC 7252 4.7 NSTART). */
function queueTimeout(w: Waiter): TimeoutError {
  return new TimeoutError(`${w.what} (still queued behind the requests outstanding to that peer)`, w.timeoutMs);
}

/** How errors of a block-wise request name it. */
function requestWhat(spec: ExchangeSpec, target: Peer): string {
  return `${spec.method} /${spec.path.join('/')} to ${target.address}:${target.port}`;
}

function describe(req: OutgoingRequest | undefined): string {
  if (!req || typeof req !== 'object') return 'request';
  const path = Array.isArray(req.path) ? '/' + req.path.join('/') : String(req.path);
  return `${String(req.method)} ${path}`;
}

export interface CreateUdpEndpointOptions extends UdpCoapEndpointOptions {
  /** Address to bind (default: all interfaces of the family). `::1` and `::` select udp6. */
  address?: string;
  /** Port to bind; 0 (default) picks an ephemeral port. */
  port?: number;
  /** Socket type; default udp6 for an IPv6 `address`, udp4 otherwise. */
  type?: 'udp4' | 'udp6';
  /** SO_RCVBUF / SO_SNDBUF sizes, for endpoints that serve many devices. */
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** Binds a UDP socket and returns the endpoint on it. Rejects with {@link EndpointStateError} when the bind fails. */
export async function createUdpEndpoint(opts: CreateUdpEndpointOptions = {}): Promise<UdpCoapEndpoint> {
  const type = opts.type ?? (opts.address && isIP(opts.address) === 6 ? 'udp6' : 'udp4');
  if (type !== 'udp4' && type !== 'udp6') throw new EndpointStateError(`socket type must be udp4 or udp6 (got ${String(type)})`);
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new EndpointStateError(`port must be an integer from 0 to 65535 (got ${port})`);
  // Validate endpoint options before binding anything.
  resolveParams(opts);
  const socket = dgram.createSocket({ type, recvBufferSize: opts.recvBufferSize, sendBufferSize: opts.sendBufferSize });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      reject(new EndpointStateError(`cannot bind ${type} ${opts.address ?? '*'}:${port}: ${err.message}`, { cause: err }));
    };
    socket.once('error', onError);
    socket.bind(port, opts.address, () => {
      socket.removeListener('error', onError);
      resolve();
    });
  });
  return new UdpCoapEndpoint(socket as unknown as DatagramSocket, opts);
}
