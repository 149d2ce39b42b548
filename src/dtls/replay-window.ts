/**
 * Anti-replay window of RFC 6347 4.1.2.6 (the algorithm of RFC 4303 3.4.3), 64 records wide: a record is accepted when
 * its sequence number is above the highest seen, or within the 64 below it and not yet seen. `check` before decrypting
 * (cheap rejection), `mark` only after the record authenticated, so forged records never move the window.
 *
 * Two 32-bit words, no allocation: bit i of the 64-bit map stands for sequence number `top - i`.
 */
export class ReplayWindow {
  static readonly SIZE = 64;
  /** Highest sequence number marked so far (-1: none). */
  top = -1;
  private lo = 0;
  private hi = 0;

  /** True if a record with this sequence number may be accepted (never seen, not older than the window). */
  check(seq: number): boolean {
    if (seq > this.top) return true;
    const diff = this.top - seq;
    if (diff >= 64) return false;
    const bit = diff < 32 ? (this.lo >>> diff) & 1 : (this.hi >>> (diff - 32)) & 1;
    return bit === 0;
  }

  /** Records this sequence number as received. */
  mark(seq: number): void {
    if (seq > this.top) {
      const shift = this.top < 0 ? 64 : seq - this.top;
      if (shift >= 64) {
        this.hi = 0;
        this.lo = 0;
      } else if (shift >= 32) {
        this.hi = shift === 32 ? this.lo : (this.lo << (shift - 32)) >>> 0;
        this.lo = 0;
      } else {
        this.hi = ((this.hi << shift) | (this.lo >>> (32 - shift))) >>> 0;
        this.lo = (this.lo << shift) >>> 0;
      }
      this.lo = (this.lo | 1) >>> 0;
      this.top = seq;
      return;
    }
    const diff = this.top - seq;
    if (diff >= 64) return;
    if (diff < 32) this.lo = (this.lo | (1 << diff)) >>> 0;
    else this.hi = (this.hi | (1 << (diff - 32))) >>> 0;
  }

  reset(): void {
    this.top = -1;
    this.lo = 0;
    this.hi = 0;
  }
}
