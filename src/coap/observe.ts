/**
 * Observe (RFC 7641) helpers.
 */

/** Observe sequence numbers are 24-bit (RFC 7641 3.4 / 4.4). */
export const OBSERVE_MAX = 0xffffff;

/** RFC 7641 3.4: a notification is fresh if its number is newer modulo 2^24, or if it came more than 128 s later. */
export const OBSERVE_FRESHNESS_MS = 128_000;

/**
 * True when a notification (sequence `v2`, arrival `t2` ms) should replace the last one delivered (`v1`, `t1`):
 * (V1 < V2 and V2 - V1 < 2^23) or (V1 > V2 and V1 - V2 > 2^23) or (T2 > T1 + 128 s). RFC 7641 3.4.
 */
export function isFresh(v1: number, t1: number, v2: number, t2: number): boolean {
  const HALF = 1 << 23;
  return (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) || t2 > t1 + OBSERVE_FRESHNESS_MS;
}
