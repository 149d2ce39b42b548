import { createHmac, randomBytes, timingSafeEqual } from 'crypto';

/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 4.2.1): Cookie = HMAC(Secret, Client-IP, Client-Parameters), where the
 * parameters are the ClientHello fields the client must repeat unchanged (version, random, session_id, cipher_suites,
 * compression_methods). The secret rotates every `lifetimeMs`; cookies made with the previous secret are still accepted,
 * so a cookie lives between one and two lifetimes. Nothing is stored per client: a flood of ClientHellos costs one HMAC
 * each and no memory.
 */
export const COOKIE_LENGTH = 32;

export interface CookieOptions {
  /** Secret rotation period (default 60 s). */
  lifetimeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export class CookieFactory {
  private current = randomBytes(32);
  private previous = randomBytes(32);
  private rotatedAt: number;
  private readonly lifetimeMs: number;
  private readonly now: () => number;
  private readonly addressScratch = Buffer.alloc(2);

  constructor(opts: CookieOptions = {}) {
    this.lifetimeMs = opts.lifetimeMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.rotatedAt = this.now();
  }

  private rotate(): void {
    const now = this.now();
    const elapsed = now - this.rotatedAt;
    if (elapsed < this.lifetimeMs) return;
    // after two lifetimes without use, neither secret may survive
    this.previous = elapsed >= 2 * this.lifetimeMs ? randomBytes(32) : this.current;
    this.current = randomBytes(32);
    this.rotatedAt = now;
  }

  private compute(secret: Buffer, address: string, port: number, body: Buffer, cookieStart: number, cookieEnd: number,
    paramsEnd: number): Buffer {
    this.addressScratch.writeUInt16BE(port, 0);
    return createHmac('sha256', secret)
      .update(address)
      .update(this.addressScratch)
      .update(body.subarray(0, cookieStart))
      .update(body.subarray(cookieEnd, paramsEnd))
      .digest();
  }

  /**
   * The cookie for a ClientHello body: `cookieStart`/`cookieEnd` delimit the cookie vector (length byte included),
   * `paramsEnd` is the end of compression_methods (see decodeClientHello).
   */
  generate(address: string, port: number, body: Buffer, cookieStart: number, cookieEnd: number, paramsEnd: number): Buffer {
    this.rotate();
    return this.compute(this.current, address, port, body, cookieStart, cookieEnd, paramsEnd);
  }

  /** True when `cookie` is the one we would have made for this ClientHello with the current or previous secret. */
  verify(address: string, port: number, cookie: Buffer, body: Buffer, cookieStart: number, cookieEnd: number,
    paramsEnd: number): boolean {
    if (cookie.length !== COOKIE_LENGTH) return false;
    this.rotate();
    if (timingSafeEqual(cookie, this.compute(this.current, address, port, body, cookieStart, cookieEnd, paramsEnd))) return true;
    return timingSafeEqual(cookie, this.compute(this.previous, address, port, body, cookieStart, cookieEnd, paramsEnd));
  }
}
