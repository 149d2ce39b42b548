import { createCipheriv, createDecipheriv, createHash, createHmac, randomFillSync, timingSafeEqual } from 'crypto';
import { RECORD_HEADER_LENGTH } from './constants';
import { CipherSuite, RecordProtection } from './cipher-suite';
import { writeRecordHeader, writeSeq48 } from './record';

/**
 * AES-128-CBC with HMAC-SHA256, MAC-then-encrypt (TLS_PSK_WITH_AES_128_CBC_SHA256, RFC 5487; record format RFC 5246
 * 6.2.3.2 with the DTLS seq_num of RFC 6347 4.1.2.1):
 *
 *   MAC      = HMAC-SHA256(mac_key, epoch + seq (8) + type + version + length + content)
 *   fragment = IV (16, random) + AES-CBC(content + MAC + padding + padding_length)
 *
 * Opening runs in constant time with respect to the padding as far as JavaScript allows (Lucky 13, AlFardan & Paterson):
 * the padding is checked over a fixed 256-byte span with masks, the MAC is always computed (over the content as if the
 * padding were empty when it is bad, RFC 5246 6.2.3.2), the MAC is compared with timingSafeEqual, and a dummy hash pads
 * the number of SHA-256 compressions to that of the longest possible content. Bad records are dropped without an alert
 * either way (RFC 6347 4.1.2.7).
 */
const BLOCK = 16;
const MAC_LENGTH = 32;
const header = Buffer.alloc(13);
const zeros = Buffer.alloc(16384 + 2048 + 64);

function fillMacHeader(type: number, version: number, epoch: number, seq: number, length: number): Buffer {
  header[0] = epoch >>> 8;
  header[1] = epoch & 0xff;
  writeSeq48(header, 2, seq);
  header[8] = type;
  header[9] = version >>> 8;
  header[10] = version & 0xff;
  header[11] = length >>> 8;
  header[12] = length & 0xff;
  return header;
}

/** Number of SHA-256 compressions for an HMAC inner hash over `n` message bytes (64-byte key block + padding of 9). */
function compressions(n: number): number {
  return Math.floor((64 + n + 8) / 64) + 1;
}

export class CbcSha256Protection implements RecordProtection {
  readonly maxOverhead = BLOCK + MAC_LENGTH + BLOCK;
  private readonly key: Buffer;
  private readonly macKey: Buffer;

  constructor(key: Buffer, macKey: Buffer) {
    // own copies: the key block they came from can go
    this.key = Buffer.from(key);
    this.macKey = Buffer.from(macKey);
  }

  seal(type: number, version: number, epoch: number, seq: number, plaintext: Buffer): Buffer {
    const len = plaintext.length;
    const padLength = BLOCK - ((len + MAC_LENGTH) % BLOCK); // 1..16 bytes of padding, the length byte included
    const inner = len + MAC_LENGTH + padLength; // multiple of 16
    const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + BLOCK + inner);
    writeRecordHeader(out, 0, type, version, epoch, seq, BLOCK + inner);
    const iv = out.subarray(RECORD_HEADER_LENGTH, RECORD_HEADER_LENGTH + BLOCK);
    randomFillSync(iv);
    const mac = createHmac('sha256', this.macKey).update(fillMacHeader(type, version, epoch, seq, len)).update(plaintext).digest();
    const pad = Buffer.allocUnsafe(padLength).fill(padLength - 1);
    const c = createCipheriv('aes-128-cbc', this.key, iv).setAutoPadding(false);
    let pos = RECORD_HEADER_LENGTH + BLOCK;
    pos += c.update(plaintext).copy(out, pos);
    pos += c.update(mac).copy(out, pos);
    pos += c.update(pad).copy(out, pos);
    c.final().copy(out, pos);
    return out;
  }

  open(type: number, version: number, epoch: number, seq: number, record: Buffer, start: number, end: number): Buffer | null {
    const cipherLength = end - start - BLOCK;
    // at least one block must hold MAC + padding_length (48 bytes), and whole blocks only
    if (cipherLength < 48 || cipherLength % BLOCK !== 0) return null;
    const d = createDecipheriv('aes-128-cbc', this.key, record.subarray(start, start + BLOCK)).setAutoPadding(false);
    const p = d.update(record.subarray(start + BLOCK, end));
    d.final();
    const n = p.length;
    const padLength = p[n - 1];
    // good = 1 when padLength + 1 + MAC fits and every padding byte equals padLength; checked over a fixed span
    let bad = ((n - MAC_LENGTH - 1 - padLength) >> 31) & 1; // negative -> 1
    const span = Math.min(256, n);
    for (let i = 1; i <= span; i++) {
      const inPad = ((i - padLength - 2) >> 31) & 1; // 1 when i <= padLength + 1: byte n-i is padding
      bad |= inPad & ((p[n - i] ^ padLength) !== 0 ? 1 : 0);
    }
    const contentLength = bad ? n - MAC_LENGTH - 1 : n - MAC_LENGTH - 1 - padLength;
    const mac = createHmac('sha256', this.macKey)
      .update(fillMacHeader(type, version, epoch, seq, contentLength))
      .update(p.subarray(0, contentLength))
      .digest();
    // equalise the SHA-256 work with the longest content this record could carry
    const extra = compressions(13 + n - MAC_LENGTH - 1) - compressions(13 + contentLength);
    createHash('sha256').update(zeros.subarray(0, extra * 64)).digest();
    const macOk = timingSafeEqual(mac, p.subarray(contentLength, contentLength + MAC_LENGTH));
    if (bad | (macOk ? 0 : 1)) return null;
    return p.subarray(0, contentLength);
  }
}

export const TLS_PSK_WITH_AES_128_CBC_SHA256: CipherSuite = {
  id: 0x00ae,
  name: 'TLS_PSK_WITH_AES_128_CBC_SHA256',
  keyExchange: 'psk',
  macKeyLength: 32,
  encKeyLength: 16,
  fixedIvLength: 0,
  createProtection: (encKey, macKey) => new CbcSha256Protection(encKey, macKey),
};
