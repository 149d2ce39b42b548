import { createHmac } from 'crypto';

/**
 * The TLS 1.2 pseudo-random function and the key schedule built on it (RFC 5246 5, 6.3, 7.4.9, 8.1), with the PSK
 * premaster secret (RFC 4279 2) and the extended master secret (RFC 7627 4). All suites we speak use SHA-256.
 */

/** P_SHA256(secret, seed) truncated to `length` bytes (RFC 5246 5). */
export function pSha256(secret: Buffer, seed: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let a = seed; // A(0)
  let written = 0;
  while (written < length) {
    a = createHmac('sha256', secret).update(a).digest(); // A(i) = HMAC(secret, A(i-1))
    const block = createHmac('sha256', secret).update(a).update(seed).digest();
    written += block.copy(out, written, 0, Math.min(block.length, length - written));
  }
  return out;
}

/** PRF(secret, label, seed) = P_SHA256(secret, label + seed) (RFC 5246 5). */
export function prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  return pSha256(secret, Buffer.concat([Buffer.from(label, 'latin1'), seed]), length);
}

/**
 * Premaster secret of the plain PSK key exchange (RFC 4279 2): uint16 N, N zero bytes, uint16 N, the PSK.
 */
export function pskPremasterSecret(psk: Buffer): Buffer {
  const n = psk.length;
  const out = Buffer.alloc(4 + 2 * n);
  out.writeUInt16BE(n, 0);
  out.writeUInt16BE(n, 2 + n);
  psk.copy(out, 4 + n);
  return out;
}

/** master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47] (RFC 5246 8.1). */
export function masterSecret(premaster: Buffer, clientRandom: Buffer, serverRandom: Buffer): Buffer {
  return prf(premaster, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48);
}

/**
 * master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47] (RFC 7627 4), where session_hash
 * is the hash of the handshake messages up to and including ClientKeyExchange.
 */
export function extendedMasterSecret(premaster: Buffer, sessionHash: Buffer): Buffer {
  return prf(premaster, 'extended master secret', sessionHash, 48);
}

/** key_block = PRF(master_secret, "key expansion", server_random + client_random) (RFC 5246 6.3). */
export function keyBlock(master: Buffer, clientRandom: Buffer, serverRandom: Buffer, length: number): Buffer {
  return prf(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), length);
}

/** verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11] (RFC 5246 7.4.9). */
export function finishedVerifyData(master: Buffer, client: boolean, handshakeHash: Buffer): Buffer {
  return prf(master, client ? 'client finished' : 'server finished', handshakeHash, 12);
}
