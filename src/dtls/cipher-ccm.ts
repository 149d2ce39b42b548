import { createCipheriv, createDecipheriv } from 'crypto';
import { RECORD_HEADER_LENGTH } from './constants';
import { CipherSuite, RecordProtection } from './cipher-suite';
import { writeRecordHeader, writeSeq48 } from './record';

/**
 * AES-128-CCM-8 record protection, TLS_PSK_WITH_AES_128_CCM_8 (RFC 6655 3, the mandatory LwM2M suite of RFC 7925 4.3):
 *
 *   nonce           = client/server_write_IV (4 bytes, "salt") + nonce_explicit (8 bytes)
 *   nonce_explicit  = epoch (2) + sequence_number (6)                     (RFC 6655 3, DTLS case)
 *   additional_data = epoch + seq (8) + type (1) + version (2) + plaintext length (2)   (RFC 5246 6.2.3.3, RFC 6347 4.1.2.1)
 *   fragment        = nonce_explicit + ciphertext + 8-byte tag
 */
export const CCM8_EXPLICIT_NONCE_LENGTH = 8;
export const CCM8_TAG_LENGTH = 8;
const OVERHEAD = CCM8_EXPLICIT_NONCE_LENGTH + CCM8_TAG_LENGTH;

// Scratch buffers: node:crypto copies the nonce at init and consumes the AAD at once, and every use here is synchronous.
const nonce = Buffer.alloc(12);
const aad = Buffer.alloc(13);

function fillAad(type: number, version: number, epoch: number, seq: number, length: number): void {
  aad[0] = epoch >>> 8;
  aad[1] = epoch & 0xff;
  writeSeq48(aad, 2, seq);
  aad[8] = type;
  aad[9] = version >>> 8;
  aad[10] = version & 0xff;
  aad[11] = length >>> 8;
  aad[12] = length & 0xff;
}

/** AES-CCM with an 8-byte tag over a 12-byte nonce: the primitive, exposed for test vectors (NIST SP 800-38C C.3). */
export function ccm8Seal(key: Buffer, nonce12: Buffer, additionalData: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv('aes-128-ccm', key, nonce12, { authTagLength: CCM8_TAG_LENGTH });
  c.setAAD(additionalData, { plaintextLength: plaintext.length });
  const ct = c.update(plaintext);
  c.final();
  return Buffer.concat([ct, c.getAuthTag()]);
}

/** Inverse of {@link ccm8Seal}: the plaintext, or null when the tag does not verify. */
export function ccm8Open(key: Buffer, nonce12: Buffer, additionalData: Buffer, sealed: Buffer): Buffer | null {
  if (sealed.length < CCM8_TAG_LENGTH) return null;
  const len = sealed.length - CCM8_TAG_LENGTH;
  const d = createDecipheriv('aes-128-ccm', key, nonce12, { authTagLength: CCM8_TAG_LENGTH });
  d.setAuthTag(sealed.subarray(len));
  d.setAAD(additionalData, { plaintextLength: len });
  const pt = d.update(sealed.subarray(0, len));
  try {
    d.final();
  } catch {
    return null;
  }
  return pt;
}

export class Ccm8Protection implements RecordProtection {
  readonly maxOverhead = OVERHEAD;
  /** The 4-byte implicit nonce part, kept as a number: one Buffer less per session (a million sessions...). */
  private readonly salt: number;
  private readonly key: Buffer;

  constructor(key: Buffer, salt: Buffer) {
    this.key = Buffer.from(key); // own copy: the key block it came from can go
    this.salt = salt.readUInt32BE(0);
  }

  seal(type: number, version: number, epoch: number, seq: number, plaintext: Buffer): Buffer {
    const len = plaintext.length;
    const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + OVERHEAD + len);
    writeRecordHeader(out, 0, type, version, epoch, seq, OVERHEAD + len);
    // nonce_explicit = epoch + seq, written both into the record and into the nonce
    out[13] = epoch >>> 8;
    out[14] = epoch & 0xff;
    writeSeq48(out, 15, seq);
    nonce.writeUInt32BE(this.salt, 0);
    out.copy(nonce, 4, 13, 21);
    fillAad(type, version, epoch, seq, len);
    const c = createCipheriv('aes-128-ccm', this.key, nonce, { authTagLength: CCM8_TAG_LENGTH });
    c.setAAD(aad, { plaintextLength: len });
    const ct = c.update(plaintext);
    c.final();
    ct.copy(out, 21);
    c.getAuthTag().copy(out, 21 + len);
    return out;
  }

  open(type: number, version: number, epoch: number, seq: number, record: Buffer, start: number, end: number): Buffer | null {
    const len = end - start - OVERHEAD;
    if (len < 0) return null;
    nonce.writeUInt32BE(this.salt, 0);
    record.copy(nonce, 4, start, start + 8);
    fillAad(type, version, epoch, seq, len);
    const d = createDecipheriv('aes-128-ccm', this.key, nonce, { authTagLength: CCM8_TAG_LENGTH });
    d.setAuthTag(record.subarray(end - CCM8_TAG_LENGTH, end));
    d.setAAD(aad, { plaintextLength: len });
    const pt = d.update(record.subarray(start + 8, end - CCM8_TAG_LENGTH));
    try {
      d.final();
    } catch {
      return null;
    }
    return pt;
  }
}

export const TLS_PSK_WITH_AES_128_CCM_8: CipherSuite = {
  id: 0xc0a8,
  name: 'TLS_PSK_WITH_AES_128_CCM_8',
  keyExchange: 'psk',
  macKeyLength: 0,
  encKeyLength: 16,
  fixedIvLength: 4,
  createProtection: (encKey, _macKey, fixedIv) => new Ccm8Protection(encKey, fixedIv),
};
