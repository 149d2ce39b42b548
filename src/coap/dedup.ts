/**
 * The deduplication cache of a CoAP endpoint (RFC 7252 4.5): the message ids each peer sent us recently, and what we
 * answered, each kept for EXCHANGE_LIFETIME (4.8.2) so that a duplicate Confirmable message gets the same ACK/RST or
 * piggybacked response again and a duplicate is never processed twice.
 *
 * A server under a registration storm holds one entry per device for EXCHANGE_LIFETIME (247 s): entries must be small.
 * No JS object, string or Buffer per entry: entries live in typed arrays, in insertion order (a ring, like
 * util/fifo-map.ts: the oldest entry is found in O(1) for eviction and expiry), and an open-addressing hash index
 * (linear probing, backward-shift deletion) maps a key to its ring slot.
 * - Key: the peer's IPv4 address as a 32-bit number (IPv4-mapped IPv6 folded to IPv4, like `peerKeyOf`), port and
 *   message id. Other addresses (IPv6, names) use a hash of the address text, and the text is kept with the entry
 *   to tell colliding addresses apart.
 * - Value: one of the markers below, or the bytes of the answer, inline in the ring when they fit in
 *   {@link INLINE_BYTES} (an empty ACK is a marker; a piggybacked 2.01 Created with an 8-byte token fits), else the
 *   Buffer itself.
 * Bounds and ageing are those of the FifoMap it replaces: at most `capacity` ring slots (oldest evicted first; holes
 * compacted away when they fill half the ring), entries older than `ttlMs` ignored by `get` and dropped by `sweep`.
 * Nothing is allocated before the first entry, and the ring and the index grow by doubling, so the many endpoints of a
 * client fleet stay small. About 52 bytes per entry (key 8, time 8, value 26, index ~10), plus 16 for the rare entries
 * of a non-IPv4 peer or an answer larger than INLINE_BYTES.
 */
import { Lwm2mError } from '../errors';

/** A Confirmable request whose handler runs and nothing was sent yet (duplicates are dropped). */
export const PENDING_MARK: Buffer = Buffer.alloc(0);
/** A Non-confirmable message already seen. */
export const NON_MARK: Buffer = Buffer.alloc(0);
/** Answered with an empty ACK (rebuilt from the message id on a duplicate). */
export const ACK_MARK: Buffer = Buffer.alloc(0);
/** Answered with a RST. */
export const RST_MARK: Buffer = Buffer.alloc(0);

/** Answers up to this size are kept inside the ring (larger ones as their Buffer). */
export const INLINE_BYTES = 24;

const HOLE = 0;
const PENDING = 1;
const NON = 2;
const ACK = 3;
const RST = 4;
const INLINE = 5;
const BIG = 6;
const KIND = 7;
/** Meta flag: the key's address is not IPv4 (hi is a hash of the text; the text is kept in `addrs`). */
const TEXT_ADDRESS = 8;
/** Bytes per slot in `vals`: meta, inline length, inline answer. */
const VAL_STRIDE = 2 + INLINE_BYTES;
/** Ring slots allocated on the first entry (then doubled up to the capacity). */
const INITIAL_SLOTS = 8;
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);
const EMPTY_I32 = new Int32Array(0);

export interface DedupCacheOptions {
  /** Most entries (ring slots) held at once. */
  capacity: number;
  /** Age after which an entry is ignored and dropped (ms, on the clock passed to set/get/sweep). */
  ttlMs: number;
}

/** 'a.b.c.d' (or '::ffff:a.b.c.d') as an unsigned 32-bit number; -1 for anything else. */
export function ipv4Number(address: string): number {
  let i = 0;
  const n = address.length;
  if (n > 7 && address.charCodeAt(0) === 0x3a && address.startsWith('::ffff:')) i = 7;
  let value = 0;
  for (let part = 0; part < 4; part++) {
    const start = i;
    let octet = 0;
    while (i < n) {
      const c = address.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      octet = octet * 10 + (c - 0x30);
      i++;
    }
    // No leading zero: '01.2.3.4' is another key than '1.2.3.4', as the text keys of peerKeyOf would be.
    if (i === start || i - start > 3 || octet > 255 || (i - start > 1 && address.charCodeAt(start) === 0x30)) return -1;
    value = value * 256 + octet;
    if (part < 3) {
      if (i >= n || address.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
  }
  return i === n ? value : -1;
}

/** The address as `peerKeyOf` writes it: IPv4-mapped IPv6 folded to IPv4. */
function foldAddress(address: string): string {
  return address.length > 7 && address.startsWith('::ffff:') && address.indexOf('.') > 0 ? address.slice(7) : address;
}

/** FNV-1a of a string, 32 bits. */
function hashText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Mixes the two key words into an index position (murmur3 finalizer). */
function mix(hi: number, lo: number): number {
  let h = hi ^ Math.imul(lo, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class DedupCache {
  readonly capacity: number;
  readonly ttlMs: number;
  /** Ring length (slots); 0 until the first entry. */
  private len = 0;
  /** By slot: the two key words, hi (IPv4 address or hash of the address text) and lo (port << 16 | message id). */
  private keys = EMPTY_U32;
  private times = EMPTY_F64;
  /** By slot, VAL_STRIDE bytes: meta (kind in the low 3 bits, TEXT_ADDRESS), inline length, inline answer bytes. */
  private vals = EMPTY_U8;
  /** Answers larger than INLINE_BYTES, by slot (created on the first one). */
  private big: (Buffer | undefined)[] | null = null;
  /** Address text of TEXT_ADDRESS keys, by slot (created on the first one). */
  private addrs: (string | undefined)[] | null = null;
  /** Hash index: ring slot + 1, 0 = empty. Power-of-two size, at least twice the ring. */
  private index = EMPTY_I32;
  private mask = 0;
  private head = 0;
  private used = 0;
  private holes = 0;
  private live = 0;
  /** Key of the last lookup (set by `key()`). */
  private kHi = 0;
  private kLo = 0;
  private kText: string | undefined = undefined;

  constructor(opts: DedupCacheOptions) {
    if (!(opts.capacity >= 1) || !Number.isFinite(opts.capacity)) throw new Lwm2mError('INVALID_ARGUMENT', `capacity must be >= 1 (got ${opts.capacity})`);
    if (!(opts.ttlMs > 0)) throw new Lwm2mError('INVALID_ARGUMENT', `ttlMs must be > 0 (got ${opts.ttlMs})`);
    this.capacity = Math.floor(opts.capacity);
    this.ttlMs = opts.ttlMs;
  }

  /** Live entries. */
  get size(): number {
    return this.live;
  }

  /**
   * What was recorded for this message: a marker, a copy of the answer's bytes, or undefined when the message id is
   * new (or its entry older than `ttlMs` at `now`).
   */
  get(address: string, port: number, messageId: number, now?: number): Buffer | undefined {
    const p = this.find(address, port, messageId);
    if (p < 0) return undefined;
    const s = this.index[p] - 1;
    if (now !== undefined && this.times[s] + this.ttlMs <= now) return undefined;
    return this.valueOf(s);
  }

  /** Records a message id (a newer entry replaces an older one of the same key, and moves to the back). */
  set(address: string, port: number, messageId: number, value: Buffer, now: number): void {
    const p = this.find(address, port, messageId);
    if (p >= 0) this.removeSlot(this.index[p] - 1, p);
    if (this.used === this.len) this.makeRoom();
    const s = (this.head + this.used) % this.len;
    this.keys[2 * s] = this.kHi;
    this.keys[2 * s + 1] = this.kLo;
    this.times[s] = now;
    const text = this.kText;
    this.vals[s * VAL_STRIDE] = text === undefined ? HOLE : TEXT_ADDRESS;
    if (text !== undefined) (this.addrs ??= new Array(this.len))[s] = text;
    this.writeValue(s, value);
    this.used++;
    this.live++;
    this.insertIndex(s);
  }

  /** Replaces the value of a present entry in place (keeps its age and position). Returns false when absent. */
  update(address: string, port: number, messageId: number, value: Buffer): boolean {
    const p = this.find(address, port, messageId);
    if (p < 0) return false;
    this.writeValue(this.index[p] - 1, value);
    return true;
  }

  /** Drops entries older than `ttlMs` (from the front). Returns how many were dropped. */
  sweep(now: number): number {
    let n = 0;
    while (this.used > 0) {
      const h = this.head;
      const kind = this.vals[h * VAL_STRIDE] & KIND;
      if (kind !== HOLE && this.times[h] + this.ttlMs > now) break;
      if (kind !== HOLE) {
        this.removeSlot(h, this.positionOf(h));
        n++;
      }
      this.holes--; // removeSlot made it a hole; consumed here
      this.head = (h + 1) % this.len;
      this.used--;
    }
    if (this.used === 0) this.head = 0;
    return n;
  }

  /** Forgets everything and releases the storage. */
  clear(): void {
    this.len = 0;
    this.keys = EMPTY_U32;
    this.times = EMPTY_F64;
    this.vals = EMPTY_U8;
    this.big = null;
    this.addrs = null;
    this.index = EMPTY_I32;
    this.mask = 0;
    this.head = this.used = this.holes = this.live = 0;
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Sets the lookup key from a peer and message id. */
  private key(address: string, port: number, messageId: number): void {
    const v4 = ipv4Number(address);
    if (v4 >= 0) {
      this.kHi = v4;
      this.kText = undefined;
    } else {
      const text = foldAddress(address);
      this.kHi = hashText(text);
      this.kText = text;
    }
    this.kLo = (((port & 0xffff) << 16) | (messageId & 0xffff)) >>> 0;
  }

  /** Index position of the key's entry, or -1. */
  private find(address: string, port: number, messageId: number): number {
    this.key(address, port, messageId);
    if (this.live === 0) return -1;
    const hi = this.kHi;
    const lo = this.kLo;
    const text = this.kText;
    const index = this.index;
    const keys = this.keys;
    const mask = this.mask;
    let p = mix(hi, lo) & mask;
    for (;;) {
      const e = index[p];
      if (e === 0) return -1;
      const s = e - 1;
      if (keys[2 * s] === hi && keys[2 * s + 1] === lo) {
        if (text === undefined ? (this.vals[s * VAL_STRIDE] & TEXT_ADDRESS) === 0 : this.addrs !== null && this.addrs[s] === text) return p;
      }
      p = (p + 1) & mask;
    }
  }

  /** Index position that points at ring slot `s` (which must be live). */
  private positionOf(s: number): number {
    let p = mix(this.keys[2 * s], this.keys[2 * s + 1]) & this.mask;
    while (this.index[p] !== s + 1) p = (p + 1) & this.mask;
    return p;
  }

  private insertIndex(s: number): void {
    let p = mix(this.keys[2 * s], this.keys[2 * s + 1]) & this.mask;
    while (this.index[p] !== 0) p = (p + 1) & this.mask;
    this.index[p] = s + 1;
  }

  /** Backward-shift deletion of index position `p` (linear probing keeps every chain unbroken). */
  private deleteIndex(p: number): void {
    const index = this.index;
    const keys = this.keys;
    const mask = this.mask;
    let i = p;
    let j = p;
    for (;;) {
      index[i] = 0;
      for (;;) {
        j = (j + 1) & mask;
        const e = index[j];
        if (e === 0) return;
        const home = mix(keys[2 * (e - 1)], keys[2 * (e - 1) + 1]) & mask;
        // The entry at j may move to i unless its home lies cyclically in (i, j].
        const stays = i <= j ? i < home && home <= j : i < home || home <= j;
        if (!stays) {
          index[i] = e;
          i = j;
          break;
        }
      }
    }
  }

  /** Turns a live slot into a hole (removed from the index, value released). */
  private removeSlot(s: number, p: number): void {
    this.deleteIndex(p);
    this.vals[s * VAL_STRIDE] = HOLE;
    if (this.big !== null) this.big[s] = undefined;
    if (this.addrs !== null) this.addrs[s] = undefined;
    this.live--;
    this.holes++;
  }

  private writeValue(s: number, v: Buffer): void {
    const at = s * VAL_STRIDE;
    const flags = this.vals[at] & TEXT_ADDRESS;
    if (this.big !== null) this.big[s] = undefined;
    let kind: number;
    if (v === PENDING_MARK) kind = PENDING;
    else if (v === NON_MARK) kind = NON;
    else if (v === ACK_MARK) kind = ACK;
    else if (v === RST_MARK) kind = RST;
    else if (v.length <= INLINE_BYTES) {
      kind = INLINE;
      const vals = this.vals;
      vals[at + 1] = v.length;
      for (let i = 0; i < v.length; i++) vals[at + 2 + i] = v[i];
    } else {
      kind = BIG;
      (this.big ??= new Array(this.len))[s] = v;
    }
    this.vals[at] = flags | kind;
  }

  private valueOf(s: number): Buffer | undefined {
    const at = s * VAL_STRIDE;
    switch (this.vals[at] & KIND) {
      case PENDING: return PENDING_MARK;
      case NON: return NON_MARK;
      case ACK: return ACK_MARK;
      case RST: return RST_MARK;
      // A copy: the slot may be reused while a send of these bytes is still under way.
      case INLINE: return Buffer.from(this.vals.subarray(at + 2, at + 2 + this.vals[at + 1]));
      case BIG: return this.big![s];
      default: return undefined;
    }
  }

  /** Oldest slot out of the ring (its entry evicted if live). */
  private evictHead(): void {
    const h = this.head;
    if ((this.vals[h * VAL_STRIDE] & KIND) !== HOLE) this.removeSlot(h, this.positionOf(h));
    this.holes--;
    this.head = (h + 1) % this.len;
    this.used--;
  }

  /** The ring is full: grow it, compact its holes, or evict the oldest slot. */
  private makeRoom(): void {
    const len = this.len;
    if (len < this.capacity) return this.relayout(Math.min(this.capacity, Math.max(INITIAL_SLOTS, len * 2)));
    if (this.holes * 2 >= len) return this.relayout(len);
    while (this.used === this.len) this.evictHead();
  }

  /** Copies live entries in order into fresh storage of `size` slots (drops holes) and rebuilds the index. */
  private relayout(size: number): void {
    const keys = new Uint32Array(2 * size);
    const times = new Float64Array(size);
    const vals = new Uint8Array(size * VAL_STRIDE);
    const big = this.big === null ? null : new Array<Buffer | undefined>(size);
    const addrs = this.addrs === null ? null : new Array<string | undefined>(size);
    const len = this.len;
    let j = 0;
    for (let i = 0; i < this.used; i++) {
      const s = (this.head + i) % len;
      if ((this.vals[s * VAL_STRIDE] & KIND) === HOLE) continue;
      keys[2 * j] = this.keys[2 * s];
      keys[2 * j + 1] = this.keys[2 * s + 1];
      times[j] = this.times[s];
      vals.set(this.vals.subarray(s * VAL_STRIDE, (s + 1) * VAL_STRIDE), j * VAL_STRIDE);
      if (big !== null) big[j] = this.big![s];
      if (addrs !== null) addrs[j] = this.addrs![s];
      j++;
    }
    this.len = size;
    this.keys = keys;
    this.times = times;
    this.vals = vals;
    this.big = big;
    this.addrs = addrs;
    this.head = 0;
    this.used = j;
    this.holes = 0;
    this.index = new Int32Array(indexSizeFor(size));
    this.mask = this.index.length - 1;
    for (let s = 0; s < j; s++) this.insertIndex(s);
  }
}

/** Index size for a ring of `slots`: a power of two, at least twice as many (load factor at most 1/2). */
function indexSizeFor(slots: number): number {
  let n = 16;
  while (n < slots * 2) n *= 2;
  return n;
}
