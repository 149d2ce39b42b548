import * as dgram from 'dgram';
import { lookup } from 'dns';
import { EventEmitter } from 'events';
import { isIP } from 'net';
import type { DatagramSocket } from '../coap/types';
import { ClientHandshake, ClientHandshakeConfig } from './client-handshake';
import { CloseReason, ConnectionConfig, ConnectionHost, DtlsConnection } from './connection';
import { DtlsConfigError, DtlsHandshakeError, DtlsNoSessionError } from './errors';
import { MAX_PSK_IDENTITY_LENGTH } from './handshake-messages';
import { toKey } from './psk-store';
import { parseRecord, RecordView } from './record';
import { resolveSuites } from './suites';
import { TimerWheel } from './timer-wheel';

/**
 * The DTLS client: one UDP socket talking to one server, on the same record layer as the server. Unlike
 * node-dtls-client it retransmits its flights (RFC 6347 4.2.4), so handshakes survive loss.
 *
 * Events: 'message' (data, rinfo {address, port, family}), 'close' (reason), 'error'. A server's fatal alert or
 * close_notify ends the session and is reported as 'close': the caller connects again (a new handshake).
 */

export interface DtlsClientOptions {
  host: string;
  port: number;
  /** PSK identity (RFC 4279: UTF-8 string) */
  identity: string | Buffer;
  /** PSK, as bytes or hex */
  key: Buffer | Uint8Array | string;
  /** Suites to offer, in order (default CCM-8 then CBC-SHA256). */
  cipherSuites?: ReadonlyArray<string | number>;
  type?: 'udp4' | 'udp6';
  localAddress?: string;
  localPort?: number;
  /** Largest handshake datagram (default 1200). */
  mtu?: number;
  /** RFC 6347 4.2.4.1 timer (default 1000 ms, doubling to retransmitMaxMs, default 60000 ms). */
  retransmitInitialMs?: number;
  retransmitMaxMs?: number;
  /** Deadline of the handshake (default 60000 ms). */
  handshakeTimeoutMs?: number;
  /** Refuse servers without the extended master secret (default false). */
  requireExtendedMasterSecret?: boolean;
  maxHandshakeMessageLength?: number;
  /** Aborts the handshake (the promise rejects with DtlsHandshakeError 'closed' and the socket is closed). */
  signal?: AbortSignal;
}

let sharedWheel: TimerWheel | undefined;
/** Client retransmission timers of every client socket of the process share one wheel (one interval while busy). */
function clientWheel(): TimerWheel {
  if (sharedWheel === undefined) sharedWheel = new TimerWheel({ tickMs: 10, slots: 1024 });
  return sharedWheel;
}

export class DtlsClientSocket extends EventEmitter implements DatagramSocket, ConnectionHost {
  readonly config: ConnectionConfig;
  readonly wheel: TimerWheel = clientWheel();
  private readonly conn: DtlsConnection;
  private readonly view = new RecordView();
  private closed = false;
  private settle: { resolve: (s: DtlsClientSocket) => void; reject: (e: Error) => void } | null = null;
  private settleCleanup: (() => void) | null = null;
  private readonly sendCallback = (): void => undefined;
  /** Records dropped (malformed, replayed, unauthentic). */
  droppedRecords = 0;

  /** @internal use connectDtls */
  constructor(private readonly socket: dgram.Socket, readonly remoteAddress: string, readonly remotePort: number,
    family: 'IPv4' | 'IPv6', config: ConnectionConfig, private readonly hsConfig: ClientHandshakeConfig, identity: string) {
    super();
    this.config = config;
    this.conn = new DtlsConnection(this, remoteAddress, remotePort, family, false);
    this.conn.identity = identity;
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    socket.on('error', (err) => {
      if (this.settle) this.fail(err);
      else if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /** @internal */
  handshake(signal?: AbortSignal): Promise<DtlsClientSocket> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      if (signal !== undefined) {
        const onAbort = (): void => this.finish('closed');
        if (signal.aborted) {
          this.finish('closed');
          return;
        }
        signal.addEventListener('abort', onAbort, { once: true });
        const off = (): void => signal.removeEventListener('abort', onAbort);
        this.once('close', off);
        this.settleCleanup = off;
      }
      const hs = new ClientHandshake(this.conn, this.hsConfig, this.now());
      this.conn.handshake = hs;
      hs.start();
    });
  }

  get established(): boolean {
    return this.conn.state === 'established';
  }

  /** The negotiated suite (IANA name). */
  get cipherSuite(): string | undefined {
    return this.conn.suite?.name;
  }

  get extendedMasterSecret(): boolean {
    return this.conn.extendedMasterSecret;
  }

  now(): number {
    return Date.now();
  }

  address(): { address: string; port: number; family: string } {
    const a = this.socket.address();
    return { address: a.address, port: a.port, family: a.family };
  }

  /** Encrypts and sends to the server; `port` and `address` are ignored (this socket has one peer). */
  send(msg: Buffer, _port?: number, _address?: string, callback?: (err: Error | null) => void): void {
    if (this.closed || this.conn.state !== 'established') {
      if (callback) process.nextTick(callback, new DtlsNoSessionError(this.remoteAddress, this.remotePort, this.closed ? 'socket closed' : undefined));
      return;
    }
    let record: Buffer;
    try {
      record = this.conn.sealApplicationData(msg);
    } catch (err) {
      if (callback) process.nextTick(callback, err as Error);
      return;
    }
    this.socket.send(record, this.remotePort, this.remoteAddress, callback ? (err) => callback(err ?? null) : this.sendCallback);
  }

  /** Sends close_notify (when established) and closes the socket. */
  close(callback?: () => void): void {
    if (this.closed) {
      if (callback) process.nextTick(callback);
      return;
    }
    if (this.conn.state === 'established') this.conn.close('closed', true);
    else this.finish('closed');
    if (callback) this.once('close', () => callback());
  }

  private finish(reason: CloseReason | 'handshake_failed'): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.close('closed', false);
    if (this.settle) {
      const s = this.settle;
      this.settle = null;
      s.reject(new DtlsHandshakeError('closed', 'socket closed during the handshake'));
    }
    setImmediate(() => {
      try {
        this.socket.close(() => this.emit('close', reason));
      } catch {
        this.emit('close', reason);
      }
    });
  }

  private fail(err: Error): void {
    if (this.settle) {
      const s = this.settle;
      this.settle = null;
      s.reject(err);
    }
    this.finish('handshake_failed');
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed || rinfo.port !== this.remotePort || rinfo.address !== this.remoteAddress) return;
    const now = Date.now();
    let off = 0;
    while (off < msg.length && !this.closed) {
      const next = parseRecord(msg, off, this.view);
      if (next < 0) {
        this.droppedRecords++;
        return;
      }
      off = next;
      this.conn.handleRecord(this.view, msg, now);
    }
  }

  // ConnectionHost

  sendDatagram(_conn: DtlsConnection, datagram: Buffer): void {
    if (this.closed) return;
    this.socket.send(datagram, this.remotePort, this.remoteAddress, this.sendCallback);
  }

  onEstablished(): void {
    this.settleCleanup?.();
    this.settleCleanup = null;
    if (this.settle) {
      const s = this.settle;
      this.settle = null;
      s.resolve(this);
    }
  }

  onHandshakeFailed(_conn: DtlsConnection, err: DtlsHandshakeError): void {
    this.fail(err);
  }

  onApplicationData(conn: DtlsConnection, data: Buffer): void {
    this.emit('message', data, { address: conn.address, port: conn.port, family: conn.family, size: data.length });
  }

  onClosed(_conn: DtlsConnection, reason: CloseReason): void {
    this.finish(reason);
  }

  onDropped(): void {
    this.droppedRecords++;
  }
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new DtlsConfigError(`${name} must be a positive number`);
  return v;
}

function resolveHost(host: string, type: 'udp4' | 'udp6' | undefined): Promise<{ address: string; family: 4 | 6 }> {
  const ip = isIP(host);
  if (ip !== 0) return Promise.resolve({ address: host, family: ip as 4 | 6 });
  return new Promise((resolve, reject) => {
    lookup(host, { family: type === 'udp6' ? 6 : type === 'udp4' ? 4 : 0 }, (err, address, family) => {
      if (err) reject(err);
      else resolve({ address, family: family as 4 | 6 });
    });
  });
}

/**
 * Opens a UDP socket, runs the PSK handshake with `host:port` and resolves with the established socket. Rejects with
 * {@link DtlsHandshakeError} (reason 'timeout', 'alert', 'unknown_identity', 'bad_key', ...) and closes the socket
 * when the handshake fails.
 */
export async function connectDtls(opts: DtlsClientOptions): Promise<DtlsClientSocket> {
  if (!opts || typeof opts.host !== 'string' || !Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) {
    throw new DtlsConfigError('connectDtls needs host and port');
  }
  const identity = typeof opts.identity === 'string' ? Buffer.from(opts.identity, 'utf8') : Buffer.from(opts.identity ?? []);
  if (identity.length === 0 || identity.length > MAX_PSK_IDENTITY_LENGTH) {
    throw new DtlsConfigError(`a PSK identity must be 1 to ${MAX_PSK_IDENTITY_LENGTH} bytes`);
  }
  const key = toKey(opts.key);
  const config: ConnectionConfig = {
    mtu: positive(opts.mtu, 1200, 'mtu'),
    retransmitInitialMs: positive(opts.retransmitInitialMs, 1000, 'retransmitInitialMs'),
    retransmitMaxMs: positive(opts.retransmitMaxMs, 60000, 'retransmitMaxMs'),
    handshakeTimeoutMs: positive(opts.handshakeTimeoutMs, 60000, 'handshakeTimeoutMs'),
    maxHandshakeMessageLength: positive(opts.maxHandshakeMessageLength, 4096, 'maxHandshakeMessageLength'),
  };
  if (config.mtu < 64) throw new DtlsConfigError('mtu must be at least 64');
  const hsConfig: ClientHandshakeConfig = {
    identity, key, suites: resolveSuites(opts.cipherSuites), requireExtendedMasterSecret: opts.requireExtendedMasterSecret ?? false,
  };
  const { address, family } = await resolveHost(opts.host, opts.type);
  const type = opts.type ?? (family === 6 ? 'udp6' : 'udp4');
  const socket = dgram.createSocket({ type });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.localPort ?? 0, opts.localAddress, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err) => {
    try { socket.close(); } catch { /* not bound */ }
    throw err;
  });
  const client = new DtlsClientSocket(socket, address, opts.port, family === 6 ? 'IPv6' : 'IPv4', config, hsConfig,
    identity.toString('utf8'));
  return client.handshake(opts.signal);
}
