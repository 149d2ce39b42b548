/**
 * Protocol numbers of DTLS 1.2 (RFC 6347 over RFC 5246) and of the extensions we speak.
 */

/** Record content types (RFC 5246 6.2.1; 25 = tls12_cid of RFC 9146, reserved for Connection ID). */
export enum ContentType {
  ChangeCipherSpec = 20,
  Alert = 21,
  Handshake = 22,
  ApplicationData = 23,
}

/** DTLS protocol versions on the wire: the one's complement of the TLS minor versions (RFC 6347 4.1). */
export const DTLS_1_0 = 0xfeff;
export const DTLS_1_2 = 0xfefd;

/** Record header length: type(1) version(2) epoch(2) sequence_number(6) length(2) (RFC 6347 4.1). */
export const RECORD_HEADER_LENGTH = 13;
/** Handshake header length: msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3) (RFC 6347 4.2.2). */
export const HANDSHAKE_HEADER_LENGTH = 12;
/** Largest plaintext of one record, 2^14 (RFC 5246 6.2.1). */
export const MAX_PLAINTEXT_LENGTH = 16384;
/** Largest record body we accept: 2^14 + 2048 (RFC 5246 6.2.3). */
export const MAX_CIPHERTEXT_LENGTH = 16384 + 2048;
/** Largest 48-bit sequence number (RFC 6347 4.1). */
export const MAX_SEQUENCE_NUMBER = 2 ** 48 - 1;

/** Handshake message types (RFC 5246 7.4, RFC 6347 4.3.2). */
export enum HandshakeType {
  HelloRequest = 0,
  ClientHello = 1,
  ServerHello = 2,
  HelloVerifyRequest = 3,
  NewSessionTicket = 4,
  Certificate = 11,
  ServerKeyExchange = 12,
  CertificateRequest = 13,
  ServerHelloDone = 14,
  CertificateVerify = 15,
  ClientKeyExchange = 16,
  Finished = 20,
}

/** Alert levels and descriptions (RFC 5246 7.2, RFC 4279 6 for unknown_psk_identity). */
export enum AlertLevel {
  Warning = 1,
  Fatal = 2,
}

export enum AlertDescription {
  CloseNotify = 0,
  UnexpectedMessage = 10,
  BadRecordMac = 20,
  RecordOverflow = 22,
  HandshakeFailure = 40,
  IllegalParameter = 47,
  DecodeError = 50,
  DecryptError = 51,
  ProtocolVersion = 70,
  InsufficientSecurity = 71,
  InternalError = 80,
  NoRenegotiation = 100,
  UnsupportedExtension = 110,
  UnknownPskIdentity = 115,
}

const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 21: 'decryption_failed', 22: 'record_overflow',
  30: 'decompression_failure', 40: 'handshake_failure', 42: 'bad_certificate', 43: 'unsupported_certificate',
  44: 'certificate_revoked', 45: 'certificate_expired', 46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca',
  49: 'access_denied', 50: 'decode_error', 51: 'decrypt_error', 60: 'export_restriction', 70: 'protocol_version',
  71: 'insufficient_security', 80: 'internal_error', 86: 'inappropriate_fallback', 90: 'user_canceled',
  100: 'no_renegotiation', 110: 'unsupported_extension', 115: 'unknown_psk_identity',
};

/** Name of an alert description, e.g. `decrypt_error`, or `alert_<n>` for an unknown one. */
export function alertName(description: number): string {
  return ALERT_NAMES[description] ?? `alert_${description}`;
}

/** Hello extensions we read or write. */
export enum ExtensionType {
  /** RFC 6066 */
  MaxFragmentLength = 1,
  /** RFC 8422 */
  SupportedGroups = 10,
  /** RFC 8422 */
  EcPointFormats = 11,
  /** RFC 5246 7.4.1.4.1 */
  SignatureAlgorithms = 13,
  /** RFC 7250 (raw public keys, for the RPK suites that come next) */
  ClientCertificateType = 19,
  ServerCertificateType = 20,
  /** RFC 7366: we do not negotiate it (the AEAD suite is the LwM2M one; CBC stays MAC-then-encrypt). */
  EncryptThenMac = 22,
  /** RFC 7627 */
  ExtendedMasterSecret = 23,
  /** RFC 5077 (never echoed: no tickets) */
  SessionTicket = 35,
  /** RFC 9146 (Connection ID, next step) */
  ConnectionId = 54,
  /** RFC 5746 */
  RenegotiationInfo = 0xff01,
}

/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.3). */
export const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
