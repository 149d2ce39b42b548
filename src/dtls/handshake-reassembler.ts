import { HANDSHAKE_HEADER_LENGTH } from './constants';
import { HandshakeFragment, HandshakeMessage, writeHandshakeHeader } from './handshake-messages';

/** What {@link HandshakeReassembler.add} did with a fragment. */
export enum FragmentResult {
  /** buffered (or delivered) */
  Accepted = 0,
  /** message_seq below the next expected: the peer retransmitted an old flight (RFC 6347 4.2.4) */
  Old = 1,
  /** dropped: too far ahead, too large, inconsistent with earlier fragments, or over the memory budget */
  Dropped = 2,
}

interface Partial {
  msgType: number;
  length: number;
  /** header + body, as if unfragmented */
  raw: Buffer;
  /** covered byte ranges of the body, sorted, merged: [s0, e0, s1, e1, ...] */
  ranges: number[];
  complete: boolean;
  /** counted in the memory budget (a buffer we allocated, not the received bytes) */
  counted: boolean;
}

/**
 * Handshake message reassembly and ordering (RFC 6347 4.2.2, 4.2.3): fragments may arrive in any order, overlap or
 * repeat; messages are delivered strictly in message_seq order. Memory is bounded: messages above
 * `maxMessageLength`, or more than `window` sequence numbers ahead, or past `maxBufferedBytes` in total, are dropped
 * (the peer retransmits).
 */
export class HandshakeReassembler {
  /** message_seq of the next message to deliver */
  nextSeq = 0;
  private readonly pending = new Map<number, Partial>();
  private buffered = 0;

  constructor(private readonly maxMessageLength = 4096, private readonly window = 8,
    private readonly maxBufferedBytes = 2 * maxMessageLength) {}

  add(f: HandshakeFragment): FragmentResult {
    if (f.messageSeq < this.nextSeq) return FragmentResult.Old;
    if (f.messageSeq >= this.nextSeq + this.window || f.length > this.maxMessageLength) return FragmentResult.Dropped;
    let p = this.pending.get(f.messageSeq);
    if (p === undefined) {
      if (f.fragmentOffset === 0 && f.fragmentLength === f.length) {
        // unfragmented: keep the received bytes as they are
        p = { msgType: f.msgType, length: f.length, raw: f.raw, ranges: [0, f.length], complete: true, counted: false };
        this.pending.set(f.messageSeq, p);
        return FragmentResult.Accepted;
      }
      if (this.buffered + f.length > this.maxBufferedBytes) return FragmentResult.Dropped;
      const raw = Buffer.alloc(HANDSHAKE_HEADER_LENGTH + f.length);
      writeHandshakeHeader(raw, 0, f.msgType, f.length, f.messageSeq, 0, f.length);
      p = { msgType: f.msgType, length: f.length, raw, ranges: [], complete: f.length === 0, counted: true };
      this.buffered += f.length;
      this.pending.set(f.messageSeq, p);
    } else if (p.msgType !== f.msgType || p.length !== f.length) {
      return FragmentResult.Dropped;
    }
    if (p.complete || f.fragmentLength === 0) return FragmentResult.Accepted;
    f.body.copy(p.raw, HANDSHAKE_HEADER_LENGTH + f.fragmentOffset);
    p.complete = addRange(p.ranges, f.fragmentOffset, f.fragmentOffset + f.fragmentLength, p.length);
    return FragmentResult.Accepted;
  }

  /** The next message in order, once complete; null otherwise. */
  next(): HandshakeMessage | null {
    const p = this.pending.get(this.nextSeq);
    if (p === undefined || !p.complete) return null;
    this.pending.delete(this.nextSeq);
    if (p.counted) this.buffered -= p.length;
    const seq = this.nextSeq++;
    return { msgType: p.msgType, messageSeq: seq, raw: p.raw, body: p.raw.subarray(HANDSHAKE_HEADER_LENGTH) };
  }

  /** Forgets everything buffered (a new handshake). */
  reset(nextSeq = 0): void {
    this.pending.clear();
    this.buffered = 0;
    this.nextSeq = nextSeq;
  }
}

/** Inserts [s, e) into sorted merged ranges; returns true when they cover [0, length). */
function addRange(r: number[], s: number, e: number, length: number): boolean {
  let i = 0;
  while (i < r.length && r[i + 1] < s) i += 2;
  // merge every range overlapping or touching [s, e)
  let j = i;
  while (j < r.length && r[j] <= e) {
    s = Math.min(s, r[j]);
    e = Math.max(e, r[j + 1]);
    j += 2;
  }
  r.splice(i, j - i, s, e);
  return r.length === 2 && r[0] === 0 && r[1] === length;
}
