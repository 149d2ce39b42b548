import { AlertDescription, AlertLevel, alertName, ContentType, DTLS_1_2, HandshakeType, MAX_PLAINTEXT_LENGTH, MAX_SEQUENCE_NUMBER } from './constants';
import { CipherSuite, RecordProtection } from './cipher-suite';
import { DtlsError, DtlsHandshakeError } from './errors';
import { HandshakeFragment, parseHandshakeFragments } from './handshake-messages';
import { encodePlainRecord, RecordView } from './record';
import { ReplayWindow } from './replay-window';
import { EpochKeys } from './suites';
import { TimerNode, TimerTarget, TimerWheel } from './timer-wheel';

/**
 * One DTLS association with one peer (RFC 6347): the record layer state of both directions (epochs 0 and 1, 48-bit
 * sequence numbers, the replay window of epoch 1), the handshake while one runs, and the dispatch of decrypted records.
 * The server multiplexer holds one per peer address; the client socket holds one.
 *
 * Renegotiation is not supported, so epochs are 0 (null cipher, handshake only) and 1 (the negotiated suite).
 */

export interface ConnectionConfig {
  /** Largest datagram we send during the handshake (records are packed and handshake messages fragmented to fit). */
  mtu: number;
  /** RFC 6347 4.2.4.1: initial retransmission timer (1 s), doubled on each expiry up to retransmitMaxMs (60 s). */
  retransmitInitialMs: number;
  retransmitMaxMs: number;
  /** Deadline of a whole handshake, from its first message. */
  handshakeTimeoutMs: number;
  /** Largest handshake message we reassemble. */
  maxHandshakeMessageLength: number;
}

/** Why an established session ended. */
export type CloseReason = 'close_notify' | 'alert' | 'idle' | 'replaced' | 'closed' | 'sequence_exhausted';

/**
 * Why a record (or a ClientHello) was dropped: the keys of the drop statistics. A closed set, so the statistics stay
 * bounded whatever a peer sends (count by reason, never by a value taken from the packet).
 */
export type DropReason =
  | 'malformed record' | 'unsupported record version' | 'record from an unknown peer' | 'record of an unknown epoch'
  | 'bad record version' | 'replayed record' | 'record failed authentication' | 'application data in epoch 0'
  | 'application data before the handshake completed' | 'malformed ChangeCipherSpec' | 'malformed alert'
  | 'unauthenticated alert on an established session' | 'malformed handshake record' | 'handshake fragment dropped'
  | 'handshake message in the wrong epoch' | 'handshake message outside a handshake' | 'handshake message after the handshake'
  | 'HelloRequest ignored (no renegotiation)' | 'malformed ClientHello' | 'fragmented or truncated ClientHello'
  | 'send error';

/** What a connection needs from its owner (the server multiplexer or the client socket). */
export interface ConnectionHost {
  readonly config: ConnectionConfig;
  /** The wheel of handshake retransmission timers. */
  readonly wheel: TimerWheel;
  /** The clock (the wheel's). */
  now(): number;
  sendDatagram(conn: DtlsConnection, datagram: Buffer): void;
  onEstablished(conn: DtlsConnection): void;
  onHandshakeFailed(conn: DtlsConnection, err: DtlsHandshakeError): void;
  onApplicationData(conn: DtlsConnection, data: Buffer): void;
  onClosed(conn: DtlsConnection, reason: CloseReason, alert?: number): void;
  /** A record was dropped (malformed, replayed, not authentic, unexpected). */
  onDropped(conn: DtlsConnection | null, why: DropReason): void;
  /** A flight was retransmitted (stats). */
  onRetransmit?(): void;
  /** The connection's idle timer fired (server only). */
  onIdleTimer?(conn: DtlsConnection, now: number): void;
}

/** The handshake side of a connection (server-handshake.ts, client-handshake.ts). */
export interface Handshake {
  /** A handshake fragment received in `epoch` (already authenticated for epoch 1). */
  onFragment(f: HandshakeFragment, epoch: number): void;
  /** A ChangeCipherSpec received in `epoch`. */
  onChangeCipherSpec(epoch: number): void;
  /** An epoch-1 record of content `type` failed to authenticate while the handshake was running. */
  onAuthFailure(type: number): void;
  /** True once this side sent its Finished and only keeps the last flight for retransmission. */
  readonly finished: boolean;
  /** Cancels timers and frees the handshake state. */
  destroy(): void;
}

export type ConnectionState = 'handshaking' | 'established' | 'closed';

export class DtlsConnection implements TimerTarget {
  state: ConnectionState = 'handshaking';
  handshake: Handshake | null = null;
  /** PSK identity the session authenticated with (server: the client's; client: its own). */
  identity: string | undefined;
  suite: CipherSuite | undefined;
  extendedMasterSecret = false;
  /**
   * ClientHello.random of the handshake that made this connection, as a latin1 string (server: tells a retransmitted
   * ClientHello from a new session; a string costs less memory than a Buffer).
   */
  clientRandom: string | undefined;
  /** Time of the last authenticated record from the peer. */
  lastActivity = 0;
  /** Idle expiry timer (server; the server cancels it when the session ends). */
  idleTimer: TimerNode | null = null;
  /** rinfo handed to 'message' listeners, made once per session. */
  rinfo: { address: string; port: number; family: 'IPv4' | 'IPv6'; identity?: string } | undefined;

  /** Current write epoch: 0 until our ChangeCipherSpec went out. */
  writeEpoch = 0;
  private writeSeq0 = 0;
  private writeSeq1 = 0;
  private write1: RecordProtection | null = null;
  private read1: RecordProtection | null = null;
  private readonly window1 = new ReplayWindow();

  constructor(readonly host: ConnectionHost, readonly address: string, readonly port: number, readonly family: 'IPv4' | 'IPv6',
    readonly isServer: boolean) {}

  /** Record sequence number of the next epoch-0 record we send (the server starts at the ClientHello's, RFC 6347 4.2.1). */
  setEpoch0WriteSeq(seq: number): void {
    this.writeSeq0 = seq;
  }

  /** Installs the epoch-1 keys (after the key exchange; records of epoch 1 are accepted from then on). */
  installKeys(keys: EpochKeys): void {
    this.read1 = keys.read;
    this.write1 = keys.write;
    this.window1.reset();
    this.writeSeq1 = 0;
  }

  get hasKeys(): boolean {
    return this.read1 !== null;
  }

  /** Largest expansion of a record of `epoch` (0 for the null cipher). */
  overheadOf(epoch: number): number {
    return epoch === 0 || this.write1 === null ? 0 : this.write1.maxOverhead;
  }

  /** Seals one record in `epoch` with the next sequence number of that epoch. */
  seal(type: number, epoch: number, plaintext: Buffer): Buffer {
    if (epoch === 0) return encodePlainRecord(type, DTLS_1_2, 0, this.writeSeq0++, plaintext);
    if (this.write1 === null) throw new DtlsError('DTLS_STATE', 'epoch 1 keys not installed');
    if (this.writeSeq1 >= MAX_SEQUENCE_NUMBER) throw new DtlsError('DTLS_SEQUENCE_EXHAUSTED', 'sequence numbers exhausted');
    return this.write1.seal(type, DTLS_1_2, 1, this.writeSeq1++, plaintext);
  }

  /** Encrypts application data into a record (epoch 1); throws when not established or too large. */
  sealApplicationData(data: Buffer): Buffer {
    if (data.length > MAX_PLAINTEXT_LENGTH) {
      throw new DtlsError('DTLS_RECORD_TOO_LARGE', `application data of ${data.length} bytes exceeds one record (2^14 bytes)`);
    }
    if (this.writeSeq1 >= MAX_SEQUENCE_NUMBER) {
      // RFC 6347 4.1: a sequence number must not wrap; without renegotiation the session ends
      this.close('sequence_exhausted', true);
      throw new DtlsError('DTLS_SEQUENCE_EXHAUSTED', 'sequence numbers exhausted: the session is closed');
    }
    return this.seal(ContentType.ApplicationData, 1, data);
  }

  /** Sends an alert in the current write epoch. */
  sendAlert(level: AlertLevel, description: number): void {
    const body = Buffer.from([level, description]);
    try {
      this.host.sendDatagram(this, this.seal(ContentType.Alert, this.writeEpoch, body));
    } catch {
      // keys gone or sequence exhausted: nothing to say
    }
  }

  /**
   * Handles one record of a datagram from this peer. Invalid, replayed or unauthentic records are dropped silently
   * (RFC 6347 4.1.2.7); nothing here throws on peer input.
   */
  handleRecord(view: RecordView, datagram: Buffer, now: number): void {
    if (this.state === 'closed') return;
    const epoch = view.epoch;
    let plain: Buffer;
    if (epoch === 0) {
      // Epoch 0 is unauthenticated: no replay window (a forged high sequence number would block the real peer);
      // handshake messages are deduplicated by message_seq instead. Only handshake, CCS and alerts live here.
      if (view.type === ContentType.ApplicationData) return this.host.onDropped(this, 'application data in epoch 0');
      plain = datagram.subarray(view.start, view.end);
    } else if (epoch === 1 && this.read1 !== null) {
      if (view.version !== DTLS_1_2) return this.host.onDropped(this, 'bad record version');
      if (!this.window1.check(view.seq)) return this.host.onDropped(this, 'replayed record');
      const opened = this.read1.open(view.type, view.version, 1, view.seq, datagram, view.start, view.end);
      if (opened === null) {
        this.host.onDropped(this, 'record failed authentication');
        if (this.handshake !== null && this.state === 'handshaking') this.handshake.onAuthFailure(view.type);
        return;
      }
      // RFC 6347 4.1.2.6: the window moves only for records that authenticated
      this.window1.mark(view.seq);
      this.lastActivity = now;
      plain = opened;
    } else {
      // count by reason, not by epoch: a peer sending junk epochs must not grow the statistics
      return this.host.onDropped(this, 'record of an unknown epoch');
    }

    switch (view.type) {
      case ContentType.ApplicationData:
        if (this.state !== 'established') return this.host.onDropped(this, 'application data before the handshake completed');
        // the peer got our Finished: the last flight need not be kept (RFC 6347 4.2.4)
        if (this.handshake !== null) this.dropHandshake();
        this.host.onApplicationData(this, plain);
        return;
      case ContentType.Handshake:
        return this.onHandshakeRecord(plain, epoch);
      case ContentType.ChangeCipherSpec:
        if (plain.length !== 1 || plain[0] !== 1) return this.host.onDropped(this, 'malformed ChangeCipherSpec');
        if (this.handshake !== null) this.handshake.onChangeCipherSpec(epoch);
        return;
      case ContentType.Alert:
        return this.onAlert(plain, epoch);
    }
  }

  private onHandshakeRecord(plain: Buffer, epoch: number): void {
    let frags: HandshakeFragment[];
    try {
      frags = parseHandshakeFragments(plain);
    } catch {
      return this.host.onDropped(this, 'malformed handshake record');
    }
    for (const f of frags) {
      if (this.state === 'closed') return;
      if (this.state === 'established' && epoch === 1) {
        // We do not renegotiate. A client's new ClientHello gets the no_renegotiation warning (RFC 5246 7.2.2, RFC 5746
        // 4.4); a server's HelloRequest is ignored, which RFC 5246 7.4.1.1 allows and which keeps the session (OpenSSL
        // answers a no_renegotiation warning with a fatal alert).
        if (this.isServer && f.msgType === HandshakeType.ClientHello) {
          this.sendAlert(AlertLevel.Warning, AlertDescription.NoRenegotiation);
          continue;
        }
        if (!this.isServer && f.msgType === HandshakeType.HelloRequest) {
          this.host.onDropped(this, 'HelloRequest ignored (no renegotiation)');
          continue;
        }
      }
      if (this.handshake !== null) this.handshake.onFragment(f, epoch);
      else this.host.onDropped(this, 'handshake message outside a handshake');
    }
  }

  private onAlert(plain: Buffer, epoch: number): void {
    if (plain.length !== 2) return this.host.onDropped(this, 'malformed alert');
    const level = plain[0];
    const description = plain[1];
    if (this.state === 'established') {
      // An established session only believes authenticated alerts: a plaintext alert could come from anyone.
      if (epoch === 0) return this.host.onDropped(this, 'unauthenticated alert on an established session');
      if (description === AlertDescription.CloseNotify) {
        // RFC 5246 7.2.1: answer close_notify with close_notify and close
        this.sendAlert(AlertLevel.Warning, AlertDescription.CloseNotify);
        this.close('close_notify', false);
      } else if (level === AlertLevel.Fatal) {
        this.close('alert', false, description);
      }
      return;
    }
    if (this.state !== 'handshaking') return;
    if (level === AlertLevel.Fatal || description === AlertDescription.CloseNotify) {
      const reason = description === AlertDescription.UnknownPskIdentity ? 'unknown_identity'
        : description === AlertDescription.DecryptError || description === AlertDescription.BadRecordMac ? 'bad_key'
          : 'alert';
      this.failHandshake(new DtlsHandshakeError(reason, `peer sent alert ${alertName(description)}`, description), undefined);
    }
  }

  /** The handshake completed: application data flows from now on. */
  establish(): void {
    if (this.state !== 'handshaking') return;
    this.state = 'established';
    this.host.onEstablished(this);
  }

  /** Ends a handshake in failure: sends `alert` (fatal) when given, reports, and closes. */
  failHandshake(err: DtlsHandshakeError, alert: number | undefined): void {
    if (this.state !== 'handshaking') return;
    if (alert !== undefined) this.sendAlert(AlertLevel.Fatal, alert);
    this.state = 'closed';
    this.dropHandshake();
    this.host.onHandshakeFailed(this, err);
  }

  /** Ends an established session; `notify` sends close_notify first. */
  close(reason: CloseReason, notify: boolean, alert?: number): void {
    if (this.state === 'closed') return;
    const wasEstablished = this.state === 'established';
    if (notify && this.writeEpoch === 1) this.sendAlert(AlertLevel.Warning, AlertDescription.CloseNotify);
    this.state = 'closed';
    this.dropHandshake();
    if (wasEstablished) this.host.onClosed(this, reason, alert);
  }

  /** Releases the handshake state (timers, transcript, last flight). */
  dropHandshake(): void {
    if (this.handshake !== null) {
      this.handshake.destroy();
      this.handshake = null;
    }
  }

  onTimer(now: number): void {
    this.host.onIdleTimer?.(this, now);
  }
}
