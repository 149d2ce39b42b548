import { Lwm2mError } from '../errors';

/**
 * Errors of the DTLS layer. All extend {@link Lwm2mError}, so callers can switch on `err.code`.
 */

/** Why a handshake did not complete (reported by 'handshakeFailed' and by a rejected `connectDtls`). */
export type HandshakeFailureReason =
  /** the peer's PSK identity is not in the store (server), or the server said unknown_psk_identity (client) */
  | 'unknown_identity'
  /** the peer's Finished did not authenticate or did not verify: the two sides hold different keys */
  | 'bad_key'
  /** the peer sent a fatal alert */
  | 'alert'
  /** no flight came back in time (after retransmissions) */
  | 'timeout'
  /** no cipher suite in common */
  | 'no_shared_cipher'
  /** the peer broke the protocol (unexpected message, bad version, bad extension...) */
  | 'protocol'
  /** too many sessions or handshakes in progress: the ClientHello was refused */
  | 'capacity'
  /** the socket was closed during the handshake */
  | 'closed';

/**
 * Base class of the DTLS errors. Used directly for: `DTLS_RECORD_TOO_LARGE` (application data above 2^14 bytes),
 * `DTLS_SEQUENCE_EXHAUSTED` (2^48 records sent: the session is closed), `DTLS_STATE` (an internal state error).
 */
export class DtlsError extends Lwm2mError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A record or handshake message that cannot be parsed. Inside the stack, such input is dropped (RFC 6347 4.1.2.7). */
export class DtlsDecodeError extends DtlsError {
  constructor(readonly what: string, reason: string) {
    super('DTLS_DECODE', `malformed ${what}: ${reason}`);
  }
}

/** A handshake that failed; `reason` says why, `alert` is the alert description sent or received, when there was one. */
export class DtlsHandshakeError extends DtlsError {
  constructor(readonly reason: HandshakeFailureReason, message: string, readonly alert?: number) {
    super('DTLS_HANDSHAKE', message);
  }
}

/** Sending to a peer with which no DTLS session is established, or on a closed socket. */
export class DtlsNoSessionError extends DtlsError {
  constructor(readonly address: string, readonly port: number, reason = 'no established DTLS session') {
    super('DTLS_NO_SESSION', `${address}:${port}: ${reason}`);
  }
}

/** A bad argument or option (key length, message too large...). */
export class DtlsConfigError extends DtlsError {
  constructor(message: string) {
    super('DTLS_CONFIG', message);
  }
}
