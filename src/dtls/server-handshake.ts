import { randomBytes, timingSafeEqual } from 'crypto';
import { AlertDescription, ContentType, DTLS_1_2, EMPTY_RENEGOTIATION_INFO_SCSV, ExtensionType, HandshakeType } from './constants';
import { CipherSuite } from './cipher-suite';
import { DtlsConnection } from './connection';
import { DtlsHandshakeError } from './errors';
import { HandshakeBase } from './handshake';
import {
  decodeFinished, decodePskClientKeyExchange, EMPTY_RENEGOTIATION_INFO, encodeServerHello, encodeVec16, Extension,
  findExtension, HandshakeFragment, HandshakeMessage, ParsedClientHello,
} from './handshake-messages';
import { extendedMasterSecret, finishedVerifyData, masterSecret, pskPremasterSecret } from './prf';
import { PskStore } from './psk-store';
import { deriveEpochKeys } from './suites';

export interface ServerHandshakeConfig {
  pskStore: PskStore;
  /** Our suites in order of preference: the first one the client offers wins. */
  suites: readonly CipherSuite[];
  /** psk_identity_hint (RFC 4279 2); without it, no ServerKeyExchange is sent. */
  identityHint?: Buffer;
  /** Refuse clients without the extended master secret (RFC 7627 5.3). */
  requireExtendedMasterSecret: boolean;
  /**
   * Most time from the ClientHello with a valid cookie to the client's verified Finished: until then the client has
   * proved only that it receives at its address, and its handshake is half-open state we hold for it.
   */
  halfOpenTimeoutMs: number;
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * The server side of the PSK handshake, from the ClientHello that carried a valid cookie (RFC 6347 4.2.1; the stateless
 * part before it lives in the multiplexer):
 *
 *   ClientHello(cookie)  -->
 *                        <--  ServerHello, [ServerKeyExchange(hint)], ServerHelloDone      (flight 4, retransmitted)
 *   ClientKeyExchange, [ChangeCipherSpec], Finished  -->
 *                        <--  [ChangeCipherSpec], Finished                                 (flight 6, last flight)
 */
export class ServerHandshake extends HandshakeBase {
  private stage: 'keyExchange' | 'finished' | 'done' = 'keyExchange';
  private suite: CipherSuite | undefined;
  private clientRandom = EMPTY;
  private serverRandom = EMPTY;
  private master: Buffer | null = null;
  private ems = false;

  constructor(conn: DtlsConnection, private readonly cfg: ServerHandshakeConfig, now: number) {
    super(conn, now);
    this.shortenDeadline(now + cfg.halfOpenTimeoutMs);
  }

  /**
   * Starts from a verified ClientHello. `raw` is the whole message (what the transcript hashes), `messageSeq` and
   * `recordSeq` its message and record sequence numbers: our ServerHello reuses both (RFC 6347 4.2.1 and errata 5186).
   */
  start(ch: ParsedClientHello, raw: Buffer, messageSeq: number, recordSeq: number): void {
    const now = this.conn.host.now();
    this.reassembler.reset(messageSeq + 1);
    this.nextSendSeq = messageSeq;
    this.conn.setEpoch0WriteSeq(recordSeq);
    this.clientRandom = Buffer.from(ch.random);
    this.conn.clientRandom = ch.random.toString('latin1');
    try {
      this.negotiate(ch, raw, now);
    } catch (err) {
      this.fail(err);
    }
  }

  private negotiate(ch: ParsedClientHello, raw: Buffer, now: number): void {
    this.hash(raw);
    // DTLS versions count down: 0xfefd (1.2) < 0xfeff (1.0). A client that cannot do 1.2 is refused (RFC 5246 E.1).
    if (ch.clientVersion > DTLS_1_2) {
      throw new DtlsHandshakeError('protocol', 'client does not offer DTLS 1.2', AlertDescription.ProtocolVersion);
    }
    const suite = this.cfg.suites.find((s) => ch.cipherSuites.includes(s.id));
    if (suite === undefined) {
      throw new DtlsHandshakeError('no_shared_cipher', `no cipher suite in common (client offers ${ch.cipherSuites.map((s) => '0x' + s.toString(16)).join(' ')})`,
        AlertDescription.HandshakeFailure);
    }
    if (!ch.compressionMethods.includes(0)) {
      throw new DtlsHandshakeError('protocol', 'client does not offer the null compression', AlertDescription.IllegalParameter);
    }
    const emsExt = findExtension(ch.extensions, ExtensionType.ExtendedMasterSecret);
    if (emsExt !== undefined && emsExt.data.length !== 0) {
      throw new DtlsHandshakeError('protocol', 'malformed extended_master_secret', AlertDescription.DecodeError);
    }
    this.ems = emsExt !== undefined;
    if (!this.ems && this.cfg.requireExtendedMasterSecret) {
      throw new DtlsHandshakeError('protocol', 'client does not support the extended master secret', AlertDescription.HandshakeFailure);
    }
    const reneg = findExtension(ch.extensions, ExtensionType.RenegotiationInfo);
    // RFC 5746 3.6: on an initial handshake renegotiated_connection must be empty
    if (reneg !== undefined && !reneg.data.equals(EMPTY_RENEGOTIATION_INFO)) {
      throw new DtlsHandshakeError('protocol', 'non-empty renegotiation_info on an initial handshake', AlertDescription.HandshakeFailure);
    }
    const extensions: Extension[] = [];
    if (reneg !== undefined || ch.cipherSuites.includes(EMPTY_RENEGOTIATION_INFO_SCSV)) {
      extensions.push({ type: ExtensionType.RenegotiationInfo, data: EMPTY_RENEGOTIATION_INFO });
    }
    if (this.ems) extensions.push({ type: ExtensionType.ExtendedMasterSecret, data: EMPTY });
    this.suite = suite;
    this.serverRandom = randomBytes(32);
    const sh = this.message(HandshakeType.ServerHello, encodeServerHello({
      serverVersion: DTLS_1_2, random: this.serverRandom, sessionId: EMPTY, cipherSuite: suite.id, compressionMethod: 0, extensions,
    }));
    const flight = [this.handshakeEntry(sh)];
    if (this.cfg.identityHint !== undefined) {
      flight.push(this.handshakeEntry(this.message(HandshakeType.ServerKeyExchange, encodeVec16(this.cfg.identityHint))));
    }
    flight.push(this.handshakeEntry(this.message(HandshakeType.ServerHelloDone, EMPTY)));
    this.sendFlight(flight, true, now);
  }

  protected onMessage(msg: HandshakeMessage): void {
    if (this.stage === 'keyExchange') {
      if (msg.msgType !== HandshakeType.ClientKeyExchange) throw unexpected(msg.msgType);
      this.onClientKeyExchange(msg);
    } else if (this.stage === 'finished') {
      if (msg.msgType !== HandshakeType.Finished) throw unexpected(msg.msgType);
      this.onFinished(msg);
    } else {
      this.conn.host.onDropped(this.conn, 'handshake message after the handshake');
    }
  }

  private onClientKeyExchange(msg: HandshakeMessage): void {
    const idBytes = decodePskClientKeyExchange(msg.body);
    const identity = idBytes.toString('utf8');
    // RFC 4279 5.1: the identity is UTF-8; refuse bytes that do not round-trip rather than look up a mangled string
    if (!Buffer.from(identity, 'utf8').equals(idBytes)) {
      throw new DtlsHandshakeError('unknown_identity', 'PSK identity is not valid UTF-8', AlertDescription.UnknownPskIdentity);
    }
    this.conn.identity = identity;
    let key: Buffer | undefined;
    try {
      key = this.cfg.pskStore.getKey(identity);
    } catch (err) {
      throw new DtlsHandshakeError('protocol', `PSK store failed: ${err instanceof Error ? err.message : String(err)}`, AlertDescription.InternalError);
    }
    if (key === undefined || key.length === 0) {
      // RFC 4279 2: "the server MAY respond with an unknown_psk_identity alert"
      throw new DtlsHandshakeError('unknown_identity', `unknown PSK identity "${identity}"`, AlertDescription.UnknownPskIdentity);
    }
    this.hash(msg.raw);
    const pms = pskPremasterSecret(key);
    // RFC 7627 4: session_hash covers the messages up to and including ClientKeyExchange
    this.master = this.ems ? extendedMasterSecret(pms, this.transcriptHash()) : masterSecret(pms, this.clientRandom, this.serverRandom);
    pms.fill(0);
    const suite = this.suite as CipherSuite;
    this.conn.installKeys(deriveEpochKeys(suite, this.master, this.clientRandom, this.serverRandom, false));
    this.conn.suite = suite;
    this.conn.extendedMasterSecret = this.ems;
    this.stage = 'finished';
  }

  private onFinished(msg: HandshakeMessage): void {
    const master = this.master as Buffer;
    const expected = finishedVerifyData(master, true, this.transcriptHash());
    if (!timingSafeEqual(expected, decodeFinished(msg.body))) {
      throw new DtlsHandshakeError('bad_key', 'client Finished does not verify', AlertDescription.DecryptError);
    }
    this.hash(msg.raw);
    const fin = this.message(HandshakeType.Finished, finishedVerifyData(master, false, this.transcriptHash()));
    master.fill(0);
    this.master = null;
    this.conn.writeEpoch = 1;
    const now = this.conn.host.now();
    this.sendFlight([{ type: ContentType.ChangeCipherSpec, epoch: 0, message: EMPTY }, this.handshakeEntry(fin, 1)], false, now);
    this.stage = 'done';
    this.linger(now);
    this.conn.establish();
  }

  protected onOldMessage(_f: HandshakeFragment): void {
    // The client retransmitted: our flight 4 (stage keyExchange) or our last flight (done) did not arrive.
    // In stage 'finished' the client is resending flight 5, whose Finished is what we wait for: nothing to do.
    if (this.stage !== 'finished') this.retransmitForPeer(this.conn.host.now());
  }
}

function unexpected(type: number): DtlsHandshakeError {
  return new DtlsHandshakeError('protocol', `unexpected handshake message ${type}`, AlertDescription.UnexpectedMessage);
}
