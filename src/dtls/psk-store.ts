import { DtlsConfigError } from './errors';

/**
 * Where the DTLS server finds pre-shared keys. Synchronous: the lookup happens inside the handshake, for each
 * ClientKeyExchange. An implementation may be backed by anything that can answer from memory.
 */
export interface PskStore {
  /** The key for this PSK identity (RFC 4279: identities are UTF-8 strings), or undefined when unknown. */
  getKey(identity: string): Buffer | undefined;
}

/** Largest PSK we accept: RFC 4279 5.3 requires 64 bytes; more is allowed by the premaster secret format. */
export const MAX_PSK_LENGTH = 512;

/** Accepts a key as a Buffer or as a hex string (how LwM2M security objects and the openssl CLI write keys). */
export function toKey(key: Buffer | Uint8Array | string): Buffer {
  const buf = typeof key === 'string' ? parseHex(key) : Buffer.from(key);
  if (buf.length === 0 || buf.length > MAX_PSK_LENGTH) {
    throw new DtlsConfigError(`a PSK must be 1 to ${MAX_PSK_LENGTH} bytes, got ${buf.length}`);
  }
  return buf;
}

function parseHex(s: string): Buffer {
  const hex = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new DtlsConfigError('a PSK string must be hexadecimal');
  return Buffer.from(hex, 'hex');
}

/**
 * An in-memory PSK store that can change while the server runs (the LwM2M server and bootstrap server add and remove
 * keys as devices are provisioned). Keys are copied in, so a caller's later change to its buffer has no effect.
 */
export class MemoryPskStore implements PskStore {
  private readonly keys = new Map<string, Buffer>();

  constructor(initial?: Iterable<[string, Buffer | Uint8Array | string]> | Record<string, Buffer | Uint8Array | string>) {
    if (initial) {
      const entries = Symbol.iterator in Object(initial)
        ? (initial as Iterable<[string, Buffer | string]>)
        : Object.entries(initial as Record<string, Buffer | string>);
      for (const [id, key] of entries) this.set(id, key);
    }
  }

  getKey(identity: string): Buffer | undefined {
    return this.keys.get(identity);
  }

  /** Adds or replaces the key of an identity. Sessions already established keep the key they were made with. */
  set(identity: string, key: Buffer | Uint8Array | string): this {
    if (typeof identity !== 'string' || identity.length === 0) throw new DtlsConfigError('a PSK identity must be a non-empty string');
    if (Buffer.byteLength(identity, 'utf8') > 1024) throw new DtlsConfigError('a PSK identity must be at most 1024 bytes');
    this.keys.set(identity, toKey(key));
    return this;
  }

  delete(identity: string): boolean {
    return this.keys.delete(identity);
  }

  has(identity: string): boolean {
    return this.keys.has(identity);
  }

  get size(): number {
    return this.keys.size;
  }
}
