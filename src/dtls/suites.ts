import { TLS_PSK_WITH_AES_128_CBC_SHA256 } from './cipher-cbc';
import { TLS_PSK_WITH_AES_128_CCM_8 } from './cipher-ccm';
import { CipherSuite, RecordProtection } from './cipher-suite';
import { DtlsConfigError } from './errors';
import { keyBlock } from './prf';

export { TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CBC_SHA256 };

/** Every suite we implement, in our default order of preference (CCM-8 first: RFC 7925 4.3, OMA TS Transport 5.2.7). */
export const SUPPORTED_SUITES: readonly CipherSuite[] = [TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CBC_SHA256];

const BY_ID = new Map<number, CipherSuite>(SUPPORTED_SUITES.map((s) => [s.id, s]));
/** OpenSSL names, accepted as aliases. */
const ALIASES: Record<string, CipherSuite> = {
  'PSK-AES128-CCM8': TLS_PSK_WITH_AES_128_CCM_8,
  'PSK-AES128-CBC-SHA256': TLS_PSK_WITH_AES_128_CBC_SHA256,
};

/** The suite with this IANA number, if we implement it. */
export function suiteById(id: number): CipherSuite | undefined {
  return BY_ID.get(id);
}

/**
 * Resolves a configured list (IANA names, OpenSSL names or numbers) to suites, keeping the order (the preference).
 * Throws {@link DtlsConfigError} on an unknown or empty list.
 */
export function resolveSuites(list: ReadonlyArray<string | number> | undefined): CipherSuite[] {
  if (list === undefined) return [...SUPPORTED_SUITES];
  if (!Array.isArray(list) || list.length === 0) throw new DtlsConfigError('cipherSuites must be a non-empty array');
  const out: CipherSuite[] = [];
  for (const item of list) {
    const s = typeof item === 'number' ? BY_ID.get(item) : SUPPORTED_SUITES.find((x) => x.name === item) ?? ALIASES[item];
    if (!s) throw new DtlsConfigError(`unsupported cipher suite ${String(item)} (supported: ${SUPPORTED_SUITES.map((x) => x.name).join(', ')})`);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** The record protection of both directions of epoch 1, from the key block (RFC 5246 6.3). */
export interface EpochKeys {
  read: RecordProtection;
  write: RecordProtection;
}

/**
 * key_block = client_write_MAC_key, server_write_MAC_key, client_write_key, server_write_key, client_write_IV,
 * server_write_IV (RFC 5246 6.3); `isClient` picks which half writes.
 */
export function deriveEpochKeys(suite: CipherSuite, master: Buffer, clientRandom: Buffer, serverRandom: Buffer, isClient: boolean): EpochKeys {
  const m = suite.macKeyLength;
  const k = suite.encKeyLength;
  const v = suite.fixedIvLength;
  const kb = keyBlock(master, clientRandom, serverRandom, 2 * (m + k + v));
  let o = 0;
  const clientMac = kb.subarray(o, (o += m));
  const serverMac = kb.subarray(o, (o += m));
  const clientKey = kb.subarray(o, (o += k));
  const serverKey = kb.subarray(o, (o += k));
  const clientIv = kb.subarray(o, (o += v));
  const serverIv = kb.subarray(o, (o += v));
  const client = suite.createProtection(clientKey, clientMac, clientIv);
  const server = suite.createProtection(serverKey, serverMac, serverIv);
  return isClient ? { write: client, read: server } : { write: server, read: client };
}
