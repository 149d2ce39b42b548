import { ContentType, DTLS_1_0, DTLS_1_2, MAX_CIPHERTEXT_LENGTH, RECORD_HEADER_LENGTH } from './constants';

/**
 * The DTLS record layer framing (RFC 6347 4.1):
 *
 *   struct { ContentType type; ProtocolVersion version; uint16 epoch; uint48 sequence_number; uint16 length;
 *            opaque fragment[length]; } DTLSPlaintext / DTLSCiphertext;
 *
 * Several records may share one datagram; a record never spans two (4.1.1). This file only frames: protection lives in
 * the cipher files, replay protection in replay-window.ts.
 */

/** One parsed record header. Reused by the receive loop (one instance per socket), so read it before the next parse. */
export class RecordView {
  type = 0;
  version = 0;
  epoch = 0;
  seq = 0;
  /** Offset of the fragment in the datagram. */
  start = 0;
  /** Offset one past the fragment. */
  end = 0;
}

/**
 * Parses the record header at `offset` of `datagram` into `out`. Returns the offset of the next record, or -1 when the
 * rest of the datagram is not a record (too short, length beyond the datagram or beyond 2^14+2048, unknown content type,
 * not a DTLS version): the caller drops the rest of the datagram (RFC 6347 4.1.2.7: invalid records are discarded).
 */
export function parseRecord(datagram: Buffer, offset: number, out: RecordView): number {
  if (datagram.length - offset < RECORD_HEADER_LENGTH) return -1;
  const type = datagram[offset];
  if (type < ContentType.ChangeCipherSpec || type > ContentType.ApplicationData) return -1;
  const version = (datagram[offset + 1] << 8) | datagram[offset + 2];
  if (version !== DTLS_1_2 && version !== DTLS_1_0) return -1;
  const length = (datagram[offset + 11] << 8) | datagram[offset + 12];
  const start = offset + RECORD_HEADER_LENGTH;
  if (length > MAX_CIPHERTEXT_LENGTH || start + length > datagram.length) return -1;
  out.type = type;
  out.version = version;
  out.epoch = (datagram[offset + 3] << 8) | datagram[offset + 4];
  // 48-bit sequence number: exact in a double (< 2^53).
  out.seq = (datagram[offset + 5] * 2 ** 40) + (datagram[offset + 6] * 2 ** 32) + datagram.readUInt32BE(offset + 7);
  out.start = start;
  out.end = start + length;
  return start + length;
}

/** Writes a record header into `buf` at `offset`. */
export function writeRecordHeader(buf: Buffer, offset: number, type: number, version: number, epoch: number, seq: number,
  length: number): void {
  buf[offset] = type;
  buf[offset + 1] = version >>> 8;
  buf[offset + 2] = version & 0xff;
  buf[offset + 3] = epoch >>> 8;
  buf[offset + 4] = epoch & 0xff;
  writeSeq48(buf, offset + 5, seq);
  buf[offset + 11] = length >>> 8;
  buf[offset + 12] = length & 0xff;
}

/** Writes a 48-bit sequence number big-endian. */
export function writeSeq48(buf: Buffer, offset: number, seq: number): void {
  const hi = Math.floor(seq / 2 ** 32);
  buf[offset] = (hi >>> 8) & 0xff;
  buf[offset + 1] = hi & 0xff;
  buf.writeUInt32BE(seq >>> 0, offset + 2);
}

/** A whole unprotected record (epoch 0). */
export function encodePlainRecord(type: number, version: number, epoch: number, seq: number, fragment: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + fragment.length);
  writeRecordHeader(out, 0, type, version, epoch, seq, fragment.length);
  fragment.copy(out, RECORD_HEADER_LENGTH);
  return out;
}
