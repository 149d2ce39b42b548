/**
 * Security information of devices (OMA TS Core 1.1 7.1 / Transport 5.2: PSK mode). A device with credentials here must
 * register over DTLS with its own identity; the in-memory store also serves as the DTLS server's PSK store
 * (`getKey(identity)`).
 */
export interface SecurityInfo {
  endpoint: string;
  /** PSK identity the device presents in the DTLS handshake. */
  identity: string;
  /** Pre-shared key. */
  key: Buffer;
}

export interface SecurityStore {
  getByEndpoint(endpoint: string): SecurityInfo | undefined;
  getByIdentity(identity: string): SecurityInfo | undefined;
}

/** What DTLS needs (the shape of src/dtls `PskStore`). */
export interface PskKeyLookup {
  getKey(identity: string): Buffer | undefined;
}

/** In-memory security store that can change while the server runs. */
export class InMemorySecurityStore implements SecurityStore, PskKeyLookup {
  private readonly byEndpoint = new Map<string, SecurityInfo>();
  private readonly byIdentity = new Map<string, SecurityInfo>();

  constructor(infos: Iterable<SecurityInfo> = []) {
    for (const i of infos) this.add(i);
  }

  /**
   * Adds or replaces the credentials of an endpoint. An identity belongs to one endpoint: giving it to another endpoint
   * throws.
   */
  add(info: SecurityInfo): void {
    if (typeof info.endpoint !== 'string' || info.endpoint === '') throw new TypeError('security info needs an endpoint');
    if (typeof info.identity !== 'string' || info.identity === '') throw new TypeError(`${info.endpoint}: security info needs a PSK identity`);
    if (!Buffer.isBuffer(info.key) || info.key.length === 0) throw new TypeError(`${info.endpoint}: PSK key must be a non-empty Buffer`);
    const owner = this.byIdentity.get(info.identity);
    if (owner && owner.endpoint !== info.endpoint) {
      throw new TypeError(`PSK identity "${info.identity}" already belongs to endpoint ${owner.endpoint}`);
    }
    this.remove(info.endpoint);
    const copy: SecurityInfo = { endpoint: info.endpoint, identity: info.identity, key: Buffer.from(info.key) };
    this.byEndpoint.set(copy.endpoint, copy);
    this.byIdentity.set(copy.identity, copy);
  }

  /** Removes the credentials of an endpoint; returns whether there were any. */
  remove(endpoint: string): boolean {
    const old = this.byEndpoint.get(endpoint);
    if (!old) return false;
    this.byEndpoint.delete(endpoint);
    if (this.byIdentity.get(old.identity) === old) this.byIdentity.delete(old.identity);
    return true;
  }

  getByEndpoint(endpoint: string): SecurityInfo | undefined {
    return this.byEndpoint.get(endpoint);
  }

  getByIdentity(identity: string): SecurityInfo | undefined {
    return this.byIdentity.get(identity);
  }

  getKey(identity: string): Buffer | undefined {
    return this.byIdentity.get(identity)?.key;
  }

  all(): SecurityInfo[] {
    return [...this.byEndpoint.values()];
  }

  get size(): number {
    return this.byEndpoint.size;
  }
}

export type SecurityCheck =
  | { ok: true; mode: 'nosec' | 'psk'; identity?: string }
  | { ok: false; reason: string };

/**
 * The rules applied to a Register (Core 1.1 7.1 / Leshan's DefaultAuthorizer):
 * - over DTLS, the PSK identity must be known and belong to the endpoint that registers;
 * - an endpoint that has credentials may not register without security.
 */
export function checkRegisterSecurity(store: SecurityStore | undefined, endpoint: string, identity: string | undefined): SecurityCheck {
  if (identity !== undefined) {
    const info = store?.getByIdentity(identity);
    if (!info) return { ok: false, reason: `PSK identity "${identity}" is not known to this server` };
    if (info.endpoint !== endpoint) {
      return { ok: false, reason: `PSK identity "${identity}" belongs to endpoint ${info.endpoint}, not ${endpoint}` };
    }
    return { ok: true, mode: 'psk', identity };
  }
  if (store?.getByEndpoint(endpoint)) return { ok: false, reason: `endpoint ${endpoint} has credentials and must register over DTLS` };
  return { ok: true, mode: 'nosec' };
}
