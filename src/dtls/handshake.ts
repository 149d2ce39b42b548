import { createHash, Hash } from 'crypto';
import { ContentType, HandshakeType } from './constants';
import { DtlsConnection, Handshake } from './connection';
import { DtlsHandshakeError, HandshakeFailureReason } from './errors';
import { FlightEntry, nextTimeout, packFlight } from './flight';
import { encodeHandshake, HandshakeFragment, HandshakeMessage } from './handshake-messages';
import { FragmentResult, HandshakeReassembler } from './handshake-reassembler';
import { TimerNode, TimerTarget } from './timer-wheel';

/**
 * What the server and client handshakes share (RFC 6347 4.2): message sequence numbers, reassembly, the transcript hash,
 * and the flight / retransmission machinery of 4.2.4 (timer doubling from retransmitInitialMs to retransmitMaxMs,
 * the last flight resent when the peer retransmits its own, an overall deadline).
 */
export abstract class HandshakeBase implements Handshake, TimerTarget {
  finished = false;
  protected readonly reassembler: HandshakeReassembler;
  /** message_seq of our next message */
  protected nextSendSeq = 0;
  /** running SHA-256 over the handshake messages, as if unfragmented (RFC 6347 4.2.6) */
  protected transcript: Hash | null = null;
  /** the flight we sent last, for retransmission */
  protected flight: FlightEntry[] = [];
  private readonly timer = new TimerNode(this);
  private timeoutMs: number;
  private deadline: number;
  private lastRetransmitAt = -Infinity;
  private authFailures = 0;

  constructor(protected readonly conn: DtlsConnection, now: number) {
    const cfg = conn.host.config;
    this.reassembler = new HandshakeReassembler(cfg.maxHandshakeMessageLength, 8);
    this.timeoutMs = cfg.retransmitInitialMs;
    this.deadline = now + cfg.handshakeTimeoutMs;
    // the overall deadline holds even when no flight of ours waits for an answer
    conn.host.wheel.scheduleAt(this.timer, this.deadline);
  }

  /**
   * Brings the overall deadline forward to `at` (never later than the one set from handshakeTimeoutMs): the server
   * bounds its half-open handshakes this way.
   */
  protected shortenDeadline(at: number): void {
    if (at >= this.deadline) return;
    this.deadline = at;
    this.conn.host.wheel.scheduleAt(this.timer, at);
  }

  /** Handles one complete message, in order. Throwing DtlsHandshakeError fails the handshake. */
  protected abstract onMessage(msg: HandshakeMessage, epoch: number): void;

  /** The peer retransmitted a message we already processed. */
  protected abstract onOldMessage(f: HandshakeFragment, epoch: number): void;

  onFragment(f: HandshakeFragment, epoch: number): void {
    // Finished is the only handshake message of epoch 1; every other one belongs to epoch 0 (no renegotiation)
    if ((f.msgType === HandshakeType.Finished) !== (epoch === 1)) {
      this.conn.host.onDropped(this.conn, 'handshake message in the wrong epoch');
      return;
    }
    const res = this.reassembler.add(f);
    if (res === FragmentResult.Old) return this.onOldMessage(f, epoch);
    if (res === FragmentResult.Dropped) return this.conn.host.onDropped(this.conn, 'handshake fragment dropped');
    for (let msg = this.reassembler.next(); msg !== null; msg = this.reassembler.next()) {
      try {
        this.onMessage(msg, epoch);
      } catch (err) {
        this.fail(err);
        return;
      }
      if (this.conn.handshake !== this) return;
    }
  }

  onChangeCipherSpec(_epoch: number): void {
    // The epoch of each record says which keys protect it, so ChangeCipherSpec carries no information we need: a
    // Finished that arrives in epoch 1 is checked against the transcript whatever happened to the CCS before it.
  }

  onAuthFailure(type: number): void {
    // During the handshake the only epoch-1 handshake record is the peer's Finished. When it does not authenticate,
    // the peer derived other keys from another PSK: say so at once with a fatal decrypt_error (RFC 5246 7.2.2: "a
    // handshake cryptographic operation failed, including being unable to ... validate a Finished message"; 7.4.9
    // "recipients of Finished messages MUST verify that the contents are correct") instead of leaving the peer to time
    // out, so a device with a wrong key fails fast and both logs say why. decrypt_error rather than bad_record_mac:
    // it is what OpenSSL and libcoap report as a wrong key, and the same alert as a Finished that decrypts but does not
    // verify. A forged record could end the handshake this way, but so could a forged plaintext fatal alert, which a
    // handshake must believe (there are no keys to check it with yet). Other epoch-1 records (application data of a
    // session this one replaces, still in flight) count, but one alone is no proof: a retransmission brings a second.
    if (type === ContentType.Handshake || ++this.authFailures >= 2) {
      this.conn.failHandshake(new DtlsHandshakeError('bad_key',
        type === ContentType.Handshake ? 'Finished does not authenticate: the peer holds another key (wrong PSK?)'
          : 'peer records fail authentication: different keys (wrong PSK?)', 51 /* decrypt_error */),
      51 /* decrypt_error */);
    }
  }

  /** Fails the handshake with the reason of a DtlsHandshakeError, or 'protocol' for a malformed message. */
  protected fail(err: unknown, alert?: number): void {
    if (err instanceof DtlsHandshakeError) {
      this.conn.failHandshake(err, alert ?? err.alert ?? alertFor(err.reason));
    } else {
      const msg = err instanceof Error ? err.message : String(err);
      this.conn.failHandshake(new DtlsHandshakeError('protocol', msg), alert ?? 50 /* decode_error */);
    }
  }

  /** A whole handshake message of ours with the next message_seq; added to the transcript when `hash`. */
  protected message(type: HandshakeType, body: Buffer, hash = true): Buffer {
    const msg = encodeHandshake(type, this.nextSendSeq++, body);
    if (hash) this.hash(msg);
    return msg;
  }

  protected hash(raw: Buffer): void {
    if (this.transcript === null) this.transcript = createHash('sha256');
    this.transcript.update(raw);
  }

  /** Hash of the transcript so far (the running hash goes on). */
  protected transcriptHash(): Buffer {
    if (this.transcript === null) this.transcript = createHash('sha256');
    return this.transcript.copy().digest();
  }

  /** Sends a new flight; with `await_` the retransmission timer runs until the peer's next flight arrives. */
  protected sendFlight(entries: FlightEntry[], await_: boolean, now: number): void {
    this.flight = entries;
    this.transmit();
    const host = this.conn.host;
    if (await_) {
      this.timeoutMs = host.config.retransmitInitialMs;
      host.wheel.scheduleAt(this.timer, Math.min(now + this.timeoutMs, this.deadline));
    } else {
      host.wheel.scheduleAt(this.timer, this.deadline);
    }
  }

  /**
   * Our last flight is out and needs no answer (the server's ChangeCipherSpec + Finished). RFC 6347 4.2.4: keep it to
   * answer retransmissions of the peer's last flight for a while (here one handshake timeout, or until the peer's
   * first application data shows it got ours); free everything else now.
   */
  protected linger(now: number): void {
    this.finished = true;
    this.reassembler.reset(this.reassembler.nextSeq);
    this.transcript = null;
    this.deadline = now + this.conn.host.config.handshakeTimeoutMs;
    this.conn.host.wheel.scheduleAt(this.timer, this.deadline);
  }

  private transmit(): void {
    const cfg = this.conn.host.config;
    const conn = this.conn;
    const datagrams = packFlight(this.flight, cfg.mtu, (type, epoch, plain) => conn.seal(type, epoch, plain), (epoch) => conn.overheadOf(epoch));
    for (const d of datagrams) conn.host.sendDatagram(conn, d);
  }

  /** Retransmits the last flight because the peer retransmitted its own, at most once per half initial timeout. */
  protected retransmitForPeer(now: number): void {
    if (this.flight.length === 0) return;
    if (now - this.lastRetransmitAt < this.conn.host.config.retransmitInitialMs / 2) return;
    this.lastRetransmitAt = now;
    this.conn.host.onRetransmit?.();
    this.transmit();
  }

  onTimer(now: number): void {
    if (this.conn.handshake !== this) return;
    if (now >= this.deadline) {
      if (this.finished) {
        // our last flight needs no answer; it was kept only in case the peer retransmitted
        this.conn.dropHandshake();
        return;
      }
      this.conn.failHandshake(new DtlsHandshakeError('timeout', 'handshake did not complete in time'), undefined);
      return;
    }
    // RFC 6347 4.2.4.1: retransmit the flight, double the timer
    this.conn.host.onRetransmit?.();
    this.lastRetransmitAt = now;
    this.transmit();
    this.timeoutMs = nextTimeout(this.timeoutMs, this.conn.host.config.retransmitMaxMs);
    this.conn.host.wheel.scheduleAt(this.timer, Math.min(now + this.timeoutMs, this.deadline));
  }

  destroy(): void {
    this.conn.host.wheel.cancel(this.timer);
    this.reassembler.reset();
    this.transcript = null;
    this.flight = [];
  }

  protected handshakeEntry(message: Buffer, epoch = 0): FlightEntry {
    return { type: ContentType.Handshake, epoch, message };
  }
}

function alertFor(reason: HandshakeFailureReason): number | undefined {
  switch (reason) {
    case 'unknown_identity': return 115;
    case 'bad_key': return 51;
    case 'no_shared_cipher': return 40;
    case 'protocol': return 10;
    default: return undefined;
  }
}
