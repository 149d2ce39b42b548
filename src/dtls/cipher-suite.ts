/**
 * What a negotiated cipher suite gives the record layer: protection of one direction of one epoch. The PSK suites are
 * here; the ECDHE_ECDSA suites (RPK, X.509) will add their key exchange next to `keyExchange` without touching records.
 */

/** Protects (seal) or checks and strips (open) the records of one direction of one epoch. */
export interface RecordProtection {
  /** Largest number of bytes `seal` adds to a plaintext (explicit nonce or IV, tag or MAC, padding). */
  readonly maxOverhead: number;
  /**
   * Returns the whole record (13-byte header + protected fragment) for this plaintext. `seq` is the 48-bit record
   * sequence number, `epoch` the epoch: together they form the 64-bit seq_num of the MAC / AEAD additional data.
   */
  seal(type: number, version: number, epoch: number, seq: number, plaintext: Buffer): Buffer;
  /**
   * Checks and decrypts the fragment `record[start..end)`; returns the plaintext, or null when it does not authenticate
   * (the caller drops the record silently, RFC 6347 4.1.2.7).
   */
  open(type: number, version: number, epoch: number, seq: number, record: Buffer, start: number, end: number): Buffer | null;
}

export type KeyExchange = 'psk';

export interface CipherSuite {
  /** IANA number, e.g. 0xC0A8 */
  readonly id: number;
  /** IANA name, e.g. TLS_PSK_WITH_AES_128_CCM_8 */
  readonly name: string;
  readonly keyExchange: KeyExchange;
  readonly macKeyLength: number;
  readonly encKeyLength: number;
  readonly fixedIvLength: number;
  createProtection(encKey: Buffer, macKey: Buffer, fixedIv: Buffer): RecordProtection;
}
