import { randomBytes, timingSafeEqual } from 'crypto';
import { AlertDescription, ContentType, DTLS_1_0, DTLS_1_2, ExtensionType, HandshakeType } from './constants';
import { CipherSuite } from './cipher-suite';
import { DtlsConnection } from './connection';
import { DtlsHandshakeError } from './errors';
import { HandshakeBase } from './handshake';
import {
  decodeFinished, decodeHelloVerifyRequest, decodePskServerKeyExchange, decodeServerHello, EMPTY_RENEGOTIATION_INFO,
  encodeClientHello, encodeVec16, HandshakeMessage,
} from './handshake-messages';
import { extendedMasterSecret, finishedVerifyData, masterSecret, pskPremasterSecret } from './prf';
import { deriveEpochKeys } from './suites';

export interface ClientHandshakeConfig {
  identity: Buffer;
  key: Buffer;
  /** Suites to offer, in our order of preference (the server chooses). */
  suites: readonly CipherSuite[];
  /** Refuse servers that do not echo the extended master secret (RFC 7627 5.3). */
  requireExtendedMasterSecret: boolean;
}

const EMPTY: Buffer = Buffer.alloc(0);
/** More HelloVerifyRequests than this in one handshake is a server (or an attacker) playing games. */
const MAX_HELLO_VERIFY_REQUESTS = 4;

/**
 * The client side of the PSK handshake (RFC 6347 4.2, RFC 4279):
 *
 *   ClientHello                          -->
 *                                        <--  HelloVerifyRequest(cookie)
 *   ClientHello(cookie)                  -->
 *                                        <--  ServerHello, [ServerKeyExchange], ServerHelloDone
 *   ClientKeyExchange, [CCS], Finished   -->
 *                                        <--  [CCS], Finished
 *
 * Every flight of ours is retransmitted on timer expiry (RFC 6347 4.2.4) and when the server retransmits its previous
 * flight.
 */
export class ClientHandshake extends HandshakeBase {
  private stage: 'hello' | 'serverHello' | 'finished' = 'hello';
  private readonly clientRandom = randomBytes(32);
  private serverRandom: Buffer = EMPTY;
  private cookie: Buffer = EMPTY;
  private lastClientHello: Buffer = EMPTY;
  private helloVerifyRequests = 0;
  private suite: CipherSuite | undefined;
  private ems = false;
  private master: Buffer | null = null;
  private sawKeyExchange = false;
  /** psk_identity_hint the server sent, if any. */
  identityHint: Buffer | undefined;

  constructor(conn: DtlsConnection, private readonly cfg: ClientHandshakeConfig, now: number) {
    super(conn, now);
  }

  start(): void {
    this.sendClientHello();
  }

  private sendClientHello(): void {
    const body = encodeClientHello({
      clientVersion: DTLS_1_2,
      random: this.clientRandom,
      sessionId: EMPTY,
      cookie: this.cookie,
      cipherSuites: this.cfg.suites.map((s) => s.id),
      compressionMethods: Buffer.from([0]),
      extensions: [
        { type: ExtensionType.ExtendedMasterSecret, data: EMPTY },
        { type: ExtensionType.RenegotiationInfo, data: EMPTY_RENEGOTIATION_INFO },
      ],
    });
    // The ClientHello joins the transcript only once we know it is the one the ServerHello answers (RFC 6347 4.2.6:
    // the first ClientHello and the HelloVerifyRequest are not hashed).
    this.lastClientHello = this.message(HandshakeType.ClientHello, body, false);
    this.sendFlight([{ ...this.handshakeEntry(this.lastClientHello), whole: true }], true, this.conn.host.now());
  }

  protected onMessage(msg: HandshakeMessage): void {
    switch (this.stage) {
      case 'hello':
        if (msg.msgType === HandshakeType.HelloVerifyRequest) return this.onHelloVerifyRequest(msg);
        if (msg.msgType === HandshakeType.ServerHello) return this.onServerHello(msg);
        throw unexpected(msg.msgType);
      case 'serverHello':
        if (msg.msgType === HandshakeType.ServerKeyExchange && !this.sawKeyExchange) {
          this.sawKeyExchange = true;
          this.identityHint = Buffer.from(decodePskServerKeyExchange(msg.body));
          this.hash(msg.raw);
          return;
        }
        if (msg.msgType === HandshakeType.ServerHelloDone) return this.onServerHelloDone(msg);
        throw unexpected(msg.msgType);
      case 'finished':
        if (msg.msgType === HandshakeType.Finished) return this.onFinished(msg);
        throw unexpected(msg.msgType);
    }
  }

  private onHelloVerifyRequest(msg: HandshakeMessage): void {
    const hvr = decodeHelloVerifyRequest(msg.body);
    if (hvr.serverVersion !== DTLS_1_0 && hvr.serverVersion !== DTLS_1_2) {
      throw new DtlsHandshakeError('protocol', `HelloVerifyRequest with version 0x${hvr.serverVersion.toString(16)}`, AlertDescription.ProtocolVersion);
    }
    if (++this.helloVerifyRequests > MAX_HELLO_VERIFY_REQUESTS) {
      throw new DtlsHandshakeError('protocol', 'too many HelloVerifyRequests', AlertDescription.UnexpectedMessage);
    }
    this.cookie = Buffer.from(hvr.cookie);
    this.sendClientHello();
  }

  private onServerHello(msg: HandshakeMessage): void {
    const sh = decodeServerHello(msg.body);
    if (sh.serverVersion !== DTLS_1_2) {
      throw new DtlsHandshakeError('protocol', `server chose version 0x${sh.serverVersion.toString(16)}, not DTLS 1.2`, AlertDescription.ProtocolVersion);
    }
    const suite = this.cfg.suites.find((s) => s.id === sh.cipherSuite);
    if (suite === undefined) {
      throw new DtlsHandshakeError('protocol', `server chose cipher suite 0x${sh.cipherSuite.toString(16)}, which we did not offer`, AlertDescription.IllegalParameter);
    }
    if (sh.compressionMethod !== 0) throw new DtlsHandshakeError('protocol', 'server chose a compression', AlertDescription.IllegalParameter);
    for (const e of sh.extensions) {
      if (e.type === ExtensionType.ExtendedMasterSecret) {
        if (e.data.length !== 0) throw new DtlsHandshakeError('protocol', 'malformed extended_master_secret', AlertDescription.DecodeError);
        this.ems = true;
      } else if (e.type === ExtensionType.RenegotiationInfo) {
        // RFC 5746 3.4: must be empty on an initial handshake
        if (!e.data.equals(EMPTY_RENEGOTIATION_INFO)) throw new DtlsHandshakeError('protocol', 'bad renegotiation_info', AlertDescription.HandshakeFailure);
      } else {
        // RFC 5246 7.4.1.4: a server must not send an extension the client did not offer
        throw new DtlsHandshakeError('protocol', `server sent extension ${e.type} we did not offer`, AlertDescription.UnsupportedExtension);
      }
    }
    if (!this.ems && this.cfg.requireExtendedMasterSecret) {
      throw new DtlsHandshakeError('protocol', 'server does not support the extended master secret', AlertDescription.HandshakeFailure);
    }
    this.suite = suite;
    this.serverRandom = Buffer.from(sh.random);
    this.hash(this.lastClientHello);
    this.hash(msg.raw);
    this.stage = 'serverHello';
  }

  private onServerHelloDone(msg: HandshakeMessage): void {
    if (msg.body.length !== 0) throw new DtlsHandshakeError('protocol', 'non-empty ServerHelloDone', AlertDescription.DecodeError);
    this.hash(msg.raw);
    const cke = this.message(HandshakeType.ClientKeyExchange, encodeVec16(this.cfg.identity));
    const pms = pskPremasterSecret(this.cfg.key);
    this.master = this.ems ? extendedMasterSecret(pms, this.transcriptHash()) : masterSecret(pms, this.clientRandom, this.serverRandom);
    pms.fill(0);
    const suite = this.suite as CipherSuite;
    this.conn.installKeys(deriveEpochKeys(suite, this.master, this.clientRandom, this.serverRandom, true));
    this.conn.suite = suite;
    this.conn.extendedMasterSecret = this.ems;
    const fin = this.message(HandshakeType.Finished, finishedVerifyData(this.master, true, this.transcriptHash()));
    this.conn.writeEpoch = 1;
    this.stage = 'finished';
    this.sendFlight([
      this.handshakeEntry(cke),
      { type: ContentType.ChangeCipherSpec, epoch: 0, message: EMPTY },
      this.handshakeEntry(fin, 1),
    ], true, this.conn.host.now());
  }

  private onFinished(msg: HandshakeMessage): void {
    const master = this.master as Buffer;
    const expected = finishedVerifyData(master, false, this.transcriptHash());
    if (!timingSafeEqual(expected, decodeFinished(msg.body))) {
      throw new DtlsHandshakeError('bad_key', 'server Finished does not verify', AlertDescription.DecryptError);
    }
    master.fill(0);
    this.master = null;
    this.finished = true;
    this.conn.establish();
    this.conn.dropHandshake();
  }

  protected onOldMessage(): void {
    // the server retransmitted its previous flight: ours was lost (RFC 6347 4.2.4)
    this.retransmitForPeer(this.conn.host.now());
  }
}

function unexpected(type: number): DtlsHandshakeError {
  return new DtlsHandshakeError('protocol', `unexpected handshake message ${type}`, AlertDescription.UnexpectedMessage);
}
