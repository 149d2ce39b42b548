import * as dgram from 'dgram';
import { EventEmitter } from 'events';
import { AddressInfo } from 'net';
import type { DatagramSocket } from '../coap/types';
import { ContentType, DTLS_1_0, DTLS_1_2, HANDSHAKE_HEADER_LENGTH, HandshakeType } from './constants';
import { CloseReason, ConnectionConfig, ConnectionHost, DropReason, DtlsConnection } from './connection';
import { CookieFactory } from './cookie';
import { DtlsConfigError, DtlsHandshakeError, DtlsNoSessionError, HandshakeFailureReason } from './errors';
import { decodeClientHello, encodeHandshake, encodeHelloVerifyRequest, ParsedClientHello } from './handshake-messages';
import { PskStore } from './psk-store';
import { encodePlainRecord, parseRecord, RecordView, rejectReason } from './record';
import { ServerHandshake, ServerHandshakeConfig } from './server-handshake';
import { resolveSuites } from './suites';
import { TimerNode, TimerWheel } from './timer-wheel';

/**
 * The DTLS server: one UDP socket, one {@link DtlsConnection} per peer address, and the stateless cookie exchange in
 * front of them (RFC 6347 4.2.1), so that a flood of ClientHellos (spoofed or not) costs one HMAC each and no memory.
 * It is a {@link DatagramSocket}: CoAP runs on it as on a plain UDP socket and sees decrypted datagrams, with the
 * peer's PSK identity in rinfo.
 *
 * Events:
 * - 'message' (data, rinfo {address, port, family, identity}) application data of an established session
 * - 'session' (info: DtlsSessionInfo) a handshake completed
 * - 'sessionClosed' (info, reason: CloseReason, alert?) an established session ended
 * - 'handshakeFailed' (event: HandshakeFailedEvent) for logs and security reports
 * - 'listening', 'error', 'close'
 */

export interface DtlsServerOptions {
  /** Address to bind (default '0.0.0.0', or '::' for udp6). */
  address?: string;
  /** Port to bind (default 5684, the coaps port; 0 for an ephemeral one). */
  port?: number;
  type?: 'udp4' | 'udp6';
  pskStore: PskStore;
  /** Suites in our order of preference (IANA or OpenSSL names, or numbers). Default: CCM-8, then CBC-SHA256. */
  cipherSuites?: ReadonlyArray<string | number>;
  /** psk_identity_hint sent in a ServerKeyExchange (RFC 4279 2); none by default (and none when empty: no ServerKeyExchange). */
  pskIdentityHint?: string | Buffer;
  /** Most sessions (established or handshaking) at once; new handshakes are refused beyond (default 1,000,000). */
  maxSessions?: number;
  /**
   * Most handshakes in progress at once, i.e. half-open: after the cookie exchange, before the client's Finished
   * verified (default 10,000); ClientHellos beyond are refused (each waits at most halfOpenTimeoutMs).
   */
  maxHandshakes?: number;
  /**
   * Most handshakes in progress from one source address, whatever its ports (an IPv6 address counts by its /64 prefix,
   * which one host commonly holds whole; default 100). Beyond it, that address's new handshakes are refused until one
   * ends, so one host cannot fill the table of maxHandshakes.
   */
  maxHandshakesPerAddress?: number;
  /**
   * A handshake whose client has not sent a verified Finished this long after its ClientHello with a valid cookie is
   * dropped (default 10,000 ms, never more than handshakeTimeoutMs). The server's flight is retransmitted 3 times
   * within it (RFC 6347 4.2.4.1 timer from 1 s).
   */
  halfOpenTimeoutMs?: number;
  /** An established session with no authenticated record from the peer for this long is forgotten (default 25 h). */
  idleTimeoutMs?: number;
  /** Largest datagram sent during handshakes (default 1200). */
  mtu?: number;
  /** RFC 6347 4.2.4.1 timer: initial value (default 1000 ms), doubled up to retransmitMaxMs (default 60000 ms). */
  retransmitInitialMs?: number;
  retransmitMaxMs?: number;
  /** Deadline of a handshake (default 60000 ms). */
  handshakeTimeoutMs?: number;
  /** Cookie secret rotation period (default 60000 ms). */
  cookieLifetimeMs?: number;
  /** Refuse clients without the extended master secret (RFC 7627; default false, as many constrained clients lack it). */
  requireExtendedMasterSecret?: boolean;
  /** Largest handshake message reassembled (default 4096). */
  maxHandshakeMessageLength?: number;
  /** Tick of the retransmission timer wheel (default 10 ms). */
  timerTickMs?: number;
}

export interface DtlsSessionInfo {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  identity?: string;
  cipherSuite?: string;
  extendedMasterSecret: boolean;
}

export interface HandshakeFailedEvent {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** The PSK identity the client presented, when it got that far. */
  identity?: string;
  reason: HandshakeFailureReason;
  /** Alert description sent or received, when there was one. */
  alert?: number;
  error: DtlsHandshakeError;
}

export interface DtlsServerStats {
  /** established sessions */
  sessions: number;
  /** handshakes in progress (after the cookie exchange) */
  handshakes: number;
  /** connection objects held (sessions + handshakes): 0 after a flood of cookieless ClientHellos */
  connections: number;
  datagramsReceived: number;
  /** records dropped: malformed, replayed, unauthentic, unexpected */
  recordsDropped: number;
  helloVerifyRequestsSent: number;
  handshakesStarted: number;
  handshakesCompleted: number;
  handshakesFailed: number;
  /** ClientHellos with a valid cookie refused because of maxSessions, maxHandshakes or maxHandshakesPerAddress */
  refusedForCapacity: number;
  /** of which refused because their address already held maxHandshakesPerAddress handshakes */
  refusedPerAddress: number;
  /** source addresses (IPv6: /64 prefixes) with handshakes in progress */
  handshakeAddresses: number;
  /** handshake flights sent again (timer expiry or the peer's retransmission) */
  flightRetransmissions: number;
  /** records dropped, per reason (a fixed set of reasons: bounded whatever peers send) */
  dropReasons: Record<string, number>;
}

const noop = (): void => undefined;

function keyOf(address: string, port: number): string {
  return port + '|' + address;
}

export class DtlsServer extends EventEmitter implements DatagramSocket, ConnectionHost {
  readonly config: ConnectionConfig;
  readonly wheel: TimerWheel;
  private readonly idleWheel: TimerWheel;
  private readonly socket: dgram.Socket;
  private readonly conns = new Map<string, DtlsConnection>();
  private readonly cookies: CookieFactory;
  private readonly hsConfig: ServerHandshakeConfig;
  private readonly maxSessions: number;
  private readonly maxHandshakes: number;
  private readonly maxHandshakesPerAddress: number;
  private readonly idleTimeoutMs: number;
  private readonly view = new RecordView();
  private readonly family: 'IPv4' | 'IPv6';
  private closed = false;
  private bound = false;
  private readonly ready: Promise<void>;
  /** Handshakes in progress. */
  private readonly handshaking = new Set<DtlsConnection>();
  /** Handshakes in progress per source address (IPv6 /64), for maxHandshakesPerAddress. */
  private readonly handshakesPerAddress = new Map<string, number>();
  private established = 0;
  private readonly counters = {
    datagramsReceived: 0, recordsDropped: 0, helloVerifyRequestsSent: 0, handshakesStarted: 0, handshakesCompleted: 0,
    handshakesFailed: 0, refusedForCapacity: 0, refusedPerAddress: 0, flightRetransmissions: 0,
  };
  private readonly dropReasons: Partial<Record<DropReason, number>> = Object.create(null);
  private readonly sendCallback = (err: Error | null): void => {
    if (err) this.countDrop('send error');
  };

  constructor(opts: DtlsServerOptions) {
    super();
    if (!opts || typeof opts.pskStore?.getKey !== 'function') throw new DtlsConfigError('createDtlsServer needs a pskStore');
    const type = opts.type ?? (opts.address !== undefined && opts.address.includes(':') ? 'udp6' : 'udp4');
    this.family = type === 'udp6' ? 'IPv6' : 'IPv4';
    this.config = {
      mtu: positive(opts.mtu, 1200, 'mtu'),
      retransmitInitialMs: positive(opts.retransmitInitialMs, 1000, 'retransmitInitialMs'),
      retransmitMaxMs: positive(opts.retransmitMaxMs, 60000, 'retransmitMaxMs'),
      handshakeTimeoutMs: positive(opts.handshakeTimeoutMs, 60000, 'handshakeTimeoutMs'),
      maxHandshakeMessageLength: positive(opts.maxHandshakeMessageLength, 4096, 'maxHandshakeMessageLength'),
    };
    if (this.config.mtu < 64) throw new DtlsConfigError('mtu must be at least 64');
    const hint = opts.pskIdentityHint;
    const halfOpenTimeoutMs = Math.min(positive(opts.halfOpenTimeoutMs, 10_000, 'halfOpenTimeoutMs'), this.config.handshakeTimeoutMs);
    this.hsConfig = {
      pskStore: opts.pskStore,
      suites: resolveSuites(opts.cipherSuites),
      identityHint: hint === undefined || hint.length === 0 ? undefined : Buffer.from(hint),
      requireExtendedMasterSecret: opts.requireExtendedMasterSecret ?? false,
      halfOpenTimeoutMs,
    };
    this.maxSessions = positive(opts.maxSessions, 1_000_000, 'maxSessions');
    this.maxHandshakes = positive(opts.maxHandshakes, 10_000, 'maxHandshakes');
    this.maxHandshakesPerAddress = positive(opts.maxHandshakesPerAddress, 100, 'maxHandshakesPerAddress');
    this.idleTimeoutMs = positive(opts.idleTimeoutMs, 25 * 3600_000, 'idleTimeoutMs');
    this.wheel = new TimerWheel({ tickMs: opts.timerTickMs ?? 10, slots: 1024 });
    this.idleWheel = new TimerWheel({ tickMs: 1000, slots: 4096 });
    this.cookies = new CookieFactory({ lifetimeMs: opts.cookieLifetimeMs });
    const port = opts.port ?? 5684;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DtlsConfigError(`port must be an integer from 0 to 65535, got ${String(port)}`);
    this.socket = dgram.createSocket({ type });
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    this.ready = new Promise<void>((resolve, reject) => {
      this.socket.on('error', (err) => {
        // A bind error rejects whenListening(); later socket errors go to 'error' listeners, if any (send errors are
        // reported to send callbacks, and an unhandled 'error' must not take the process down).
        if (!this.bound) reject(err);
        if (this.listenerCount('error') > 0) this.emit('error', err);
      });
      this.socket.once('listening', () => {
        this.bound = true;
        resolve();
        this.emit('listening');
      });
    });
    this.ready.catch(noop);
    this.socket.bind(port, opts.address ?? (type === 'udp6' ? '::' : '0.0.0.0'));
  }

  /** Resolves once the socket is bound (rejects with the bind error). */
  whenListening(): Promise<void> {
    return this.ready;
  }

  now(): number {
    return Date.now();
  }

  address(): { address: string; port: number; family: string } {
    const a = this.socket.address() as AddressInfo;
    return { address: a.address, port: a.port, family: a.family };
  }

  stats(): DtlsServerStats {
    return {
      sessions: this.established, handshakes: this.handshaking.size, connections: this.conns.size, ...this.counters,
      handshakeAddresses: this.handshakesPerAddress.size, dropReasons: { ...this.dropReasons },
    };
  }

  /** The established session with this peer, if any. */
  getSession(address: string, port: number): DtlsSessionInfo | undefined {
    const c = this.conns.get(keyOf(address, port));
    return c !== undefined && c.state === 'established' ? infoOf(c) : undefined;
  }

  /** Ends the session with this peer (close_notify sent); true when there was one. */
  closeSession(address: string, port: number): boolean {
    const c = this.conns.get(keyOf(address, port));
    if (c === undefined) return false;
    this.removeConnection(c, 'closed', true);
    return true;
  }

  /**
   * Encrypts `msg` to the established session with this peer. Without one (or once closed), the callback gets a
   * {@link DtlsNoSessionError} and nothing is sent.
   */
  send(msg: Buffer, port: number, address: string, callback?: (err: Error | null) => void): void {
    const conn = this.closed ? undefined : this.conns.get(keyOf(address, port));
    if (conn === undefined || conn.state !== 'established') {
      if (callback) {
        const err = new DtlsNoSessionError(address, port, this.closed ? 'server closed' : undefined);
        process.nextTick(callback, err);
      }
      return;
    }
    let record: Buffer;
    try {
      record = conn.sealApplicationData(msg);
    } catch (err) {
      if (callback) process.nextTick(callback, err as Error);
      return;
    }
    this.socket.send(record, port, address, callback ? (err) => callback(err ?? null) : this.sendCallback);
  }

  /** Sends close_notify to every established session, frees everything and closes the socket. */
  close(callback?: () => void): void {
    if (this.closed) {
      if (callback) process.nextTick(callback);
      return;
    }
    this.closed = true;
    for (const conn of [...this.conns.values()]) this.removeConnection(conn, 'closed', true);
    this.conns.clear();
    this.wheel.clear();
    this.idleWheel.clear();
    // let the close_notify datagrams leave before the handle goes
    setImmediate(() => {
      const done = (): void => {
        this.emit('close');
        callback?.();
      };
      if (!this.bound) {
        try { this.socket.close(done); } catch { process.nextTick(done); }
        return;
      }
      this.socket.close(done);
    });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // receive path

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    this.counters.datagramsReceived++;
    const now = Date.now();
    const key = keyOf(rinfo.address, rinfo.port);
    let conn = this.conns.get(key);
    const view = this.view;
    let off = 0;
    while (off < msg.length) {
      const next = parseRecord(msg, off, view);
      if (next < 0) {
        this.countDrop(rejectReason(msg, off));
        return;
      }
      off = next;
      if (view.epoch === 0 && view.type === ContentType.Handshake && view.end > view.start && msg[view.start] === HandshakeType.ClientHello) {
        conn = this.onClientHello(conn, key, msg, rinfo, now);
      } else if (conn === undefined) {
        this.countDrop('record from an unknown peer');
      } else {
        conn.handleRecord(view, msg, now);
      }
      if (this.closed) return;
      if (conn !== undefined && conn.state === 'closed') conn = this.conns.get(key);
    }
  }

  /** A ClientHello in epoch 0: retransmission, stateless cookie exchange, or a new (or replacing) handshake. */
  private onClientHello(conn: DtlsConnection | undefined, key: string, msg: Buffer, rinfo: dgram.RemoteInfo, now: number): DtlsConnection | undefined {
    const view = this.view;
    const start = view.start;
    const recordLength = view.end - start;
    if (recordLength < HANDSHAKE_HEADER_LENGTH) {
      this.countDrop('malformed ClientHello');
      return conn;
    }
    const length = msg.readUIntBE(start + 1, 3);
    const messageSeq = msg.readUInt16BE(start + 4);
    const fragmentOffset = msg.readUIntBE(start + 6, 3);
    const fragmentLength = msg.readUIntBE(start + 9, 3);
    // Before the cookie nothing is kept, so nothing is reassembled: the first ClientHello must come whole (a PSK
    // ClientHello is a few hundred bytes).
    if (fragmentOffset !== 0 || fragmentLength !== length || HANDSHAKE_HEADER_LENGTH + length > recordLength) {
      this.countDrop('fragmented or truncated ClientHello');
      return conn;
    }
    const body = msg.subarray(start + HANDSHAKE_HEADER_LENGTH, start + HANDSHAKE_HEADER_LENGTH + length);
    let ch: ParsedClientHello;
    try {
      ch = decodeClientHello(body);
    } catch {
      this.countDrop('malformed ClientHello');
      return conn;
    }
    if (conn !== undefined && conn.clientRandom !== undefined && conn.clientRandom === ch.random.toString('latin1')) {
      // the ClientHello that started this connection, again: its handshake decides (retransmits its flight)
      conn.handleRecord(view, msg, now);
      return conn;
    }
    if (ch.cookie.length === 0 || !this.cookies.verify(rinfo.address, rinfo.port, ch.cookie, body, ch.cookieStart, ch.cookieEnd, ch.paramsEnd)) {
      this.sendHelloVerifyRequest(rinfo, body, ch, messageSeq, view.seq);
      return conn;
    }
    // The cookie proves the client receives at this address (RFC 6347 4.2.1); from here on state is kept. A new
    // ClientHello from a known address starts a new session and the old one goes (RFC 6347 4.2.8).
    const family = rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4';
    if (this.handshaking.size >= this.maxHandshakes || (conn === undefined && this.conns.size >= this.maxSessions)) {
      this.counters.refusedForCapacity++;
      this.emitFailed(rinfo.address, rinfo.port, family, undefined,
        () => new DtlsHandshakeError('capacity', 'too many sessions or handshakes in progress'));
      return conn;
    }
    // One host, even with a valid cookie for each of its ports, holds at most maxHandshakesPerAddress half-open
    // handshakes: it cannot fill the table of maxHandshakes and lock everyone else out (the handshake a replaced
    // connection of the same port held is given back, so a client that reconnects is not refused by its own previous
    // attempt).
    const bucket = addressBucket(rinfo.address, family);
    const held = (this.handshakesPerAddress.get(bucket) ?? 0) - (conn !== undefined && conn.state === 'handshaking' ? 1 : 0);
    if (held >= this.maxHandshakesPerAddress) {
      this.counters.refusedForCapacity++;
      this.counters.refusedPerAddress++;
      this.emitFailed(rinfo.address, rinfo.port, family, undefined,
        () => new DtlsHandshakeError('capacity', `too many handshakes in progress from ${bucket}`));
      return conn;
    }
    if (conn !== undefined) this.removeConnection(conn, 'replaced', false);
    const fresh = new DtlsConnection(this, rinfo.address, rinfo.port, family, true);
    const hs = new ServerHandshake(fresh, this.hsConfig, now);
    fresh.handshake = hs;
    this.conns.set(key, fresh);
    this.handshaking.add(fresh);
    this.handshakesPerAddress.set(bucket, (this.handshakesPerAddress.get(bucket) ?? 0) + 1);
    this.counters.handshakesStarted++;
    hs.start(ch, msg.subarray(start, start + HANDSHAKE_HEADER_LENGTH + length), messageSeq, view.seq);
    return fresh;
  }

  private sendHelloVerifyRequest(rinfo: dgram.RemoteInfo, body: Buffer, ch: ParsedClientHello, messageSeq: number, recordSeq: number): void {
    const cookie = this.cookies.generate(rinfo.address, rinfo.port, body, ch.cookieStart, ch.cookieEnd, ch.paramsEnd);
    // RFC 6347 4.2.1: server_version DTLS 1.0 whatever will be negotiated; message_seq and record sequence number
    // copied from the ClientHello. The answer is smaller than the ClientHello: no amplification.
    const hvr = encodeHandshake(HandshakeType.HelloVerifyRequest, messageSeq, encodeHelloVerifyRequest({ serverVersion: DTLS_1_0, cookie }));
    this.counters.helloVerifyRequestsSent++;
    // The DTLS 1.0 of 4.2.1 is the body's server_version only: the record is DTLS 1.2 like every record we send. Older
    // tinydtls builds take only 0xFEFD records and stall on a HelloVerifyRequest in a 0xFEFF one.
    this.socket.send(encodePlainRecord(ContentType.Handshake, DTLS_1_2, 0, recordSeq, hvr), rinfo.port, rinfo.address, this.sendCallback);
  }

  /** Forgets a connection; an established one is reported closed with `reason` (close_notify first when `notify`). */
  private removeConnection(conn: DtlsConnection, reason: CloseReason, notify: boolean): void {
    if (conn.state === 'handshaking') {
      this.handshakeEnded(conn);
      conn.close(reason, false);
      this.forget(conn);
    } else if (conn.state === 'established') {
      conn.close(reason, notify); // -> onClosed
    } else {
      this.forget(conn);
    }
  }

  private forget(conn: DtlsConnection): void {
    const key = keyOf(conn.address, conn.port);
    if (this.conns.get(key) === conn) this.conns.delete(key);
    if (conn.idleTimer !== null) this.idleWheel.cancel(conn.idleTimer);
  }

  /** A handshake in progress ended (completed, failed, replaced or evicted). */
  private handshakeEnded(conn: DtlsConnection): void {
    if (!this.handshaking.delete(conn)) return;
    const bucket = addressBucket(conn.address, conn.family);
    const n = (this.handshakesPerAddress.get(bucket) ?? 1) - 1;
    if (n <= 0) this.handshakesPerAddress.delete(bucket);
    else this.handshakesPerAddress.set(bucket, n);
  }

  private countDrop(why: DropReason): void {
    this.counters.recordsDropped++;
    this.dropReasons[why] = (this.dropReasons[why] ?? 0) + 1;
  }

  /** Counts and reports a failed handshake; `err` may be a factory (no error object is made under a flood nobody hears). */
  private emitFailed(address: string, port: number, family: 'IPv4' | 'IPv6', identity: string | undefined,
    err: DtlsHandshakeError | (() => DtlsHandshakeError)): void {
    this.counters.handshakesFailed++;
    if (this.listenerCount('handshakeFailed') === 0) return;
    const error = typeof err === 'function' ? err() : err;
    const ev: HandshakeFailedEvent = { address, port, family, identity, reason: error.reason, alert: error.alert, error };
    this.emit('handshakeFailed', ev);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // ConnectionHost

  sendDatagram(conn: DtlsConnection, datagram: Buffer): void {
    if (this.closed && conn.state !== 'established' && conn.state !== 'closed') return;
    this.socket.send(datagram, conn.port, conn.address, this.sendCallback);
  }

  onEstablished(conn: DtlsConnection): void {
    this.handshakeEnded(conn);
    this.established++;
    this.counters.handshakesCompleted++;
    conn.lastActivity = Date.now();
    conn.rinfo = Object.freeze({ address: conn.address, port: conn.port, family: conn.family, identity: conn.identity });
    conn.idleTimer = new TimerNode(conn);
    this.idleWheel.schedule(conn.idleTimer, this.idleTimeoutMs);
    if (this.listenerCount('session') > 0) this.emit('session', infoOf(conn));
  }

  onHandshakeFailed(conn: DtlsConnection, err: DtlsHandshakeError): void {
    this.handshakeEnded(conn);
    this.forget(conn);
    this.emitFailed(conn.address, conn.port, conn.family, conn.identity, err);
  }

  onApplicationData(conn: DtlsConnection, data: Buffer): void {
    this.emit('message', data, conn.rinfo);
  }

  onClosed(conn: DtlsConnection, reason: CloseReason, alert?: number): void {
    this.established--;
    this.forget(conn);
    if (this.listenerCount('sessionClosed') > 0) this.emit('sessionClosed', infoOf(conn), reason, alert);
  }

  onDropped(_conn: DtlsConnection | null, why: DropReason): void {
    this.countDrop(why);
  }

  onRetransmit(): void {
    this.counters.flightRetransmissions++;
  }

  onIdleTimer(conn: DtlsConnection, now: number): void {
    if (conn.state !== 'established' || conn.idleTimer === null) return;
    const expiry = conn.lastActivity + this.idleTimeoutMs;
    if (now >= expiry) conn.close('idle', false);
    else this.idleWheel.scheduleAt(conn.idleTimer, expiry);
  }
}

function infoOf(c: DtlsConnection): DtlsSessionInfo {
  return {
    address: c.address, port: c.port, family: c.family, identity: c.identity, cipherSuite: c.suite?.name,
    extendedMasterSecret: c.extendedMasterSecret,
  };
}

/**
 * The key under which maxHandshakesPerAddress counts a peer: the IPv4 address (also when IPv4-mapped), or the /64
 * prefix of an IPv6 address (RFC 4291 2.5.4: the interface identifier is the low 64 bits, and a host commonly gets
 * a whole /64, RFC 8981 temporary addresses included, so counting by full address would be no bound at all).
 * @internal exported for tests
 */
export function addressBucket(address: string, family: 'IPv4' | 'IPv6'): string {
  if (family === 'IPv4') return address;
  let a = address;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const lower = a.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.includes('.')) return lower.slice(7);
  const gap = lower.indexOf('::');
  let groups: string[];
  if (gap < 0) {
    groups = lower.split(':');
  } else {
    const head = gap === 0 ? [] : lower.slice(0, gap).split(':');
    const tailText = lower.slice(gap + 2);
    const tail = tailText === '' ? [] : tailText.split(':');
    groups = head.concat(new Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), tail);
  }
  const prefix: string[] = [];
  for (let i = 0; i < 4; i++) {
    const g = parseInt(groups[i] ?? '0', 16);
    prefix.push(Number.isNaN(g) ? '0' : g.toString(16));
  }
  return prefix.join(':') + '::/64';
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new DtlsConfigError(`${name} must be a positive number`);
  return v;
}

/** Creates a DTLS server and binds its UDP socket (listen for 'listening' or await `whenListening()`). */
export function createDtlsServer(opts: DtlsServerOptions): DtlsServer {
  return new DtlsServer(opts);
}
