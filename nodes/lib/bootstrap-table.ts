/**
 * The bootstrap node's editor table as bootstrap configurations; PSK keys come from the node's credentials.
 */
import type { BootstrapConfig, ServerAccountConfig } from '../../src/bootstrap/config';
import { randomBytes } from 'crypto';
import { parsePskList } from './psk';

export interface TableRow {
  endpoint?: string;
  uri?: string;
  ssid?: string | number;
  lifetime?: string | number;
  binding?: string;
  security?: string;
  identity?: string;
}

/** PSK keys by endpoint (hex), from the node's password credential (`endpoint=hexkey, ...`). */
export function parseKeys(text: string | undefined): Map<string, string> {
  return new Map(parsePskList(text).map((e) => [e.endpoint, e.key.toString('hex')]));
}

/**
 * The configuration for one device from the table: its own row, else the `*` row. A PSK account whose key was not
 * entered gets a fresh random key for this device (handed to our server by the bootstrap server), so no key has to be
 * stored anywhere to provision a fleet; the PSK identity defaults to the endpoint name.
 */
export function configFor(endpoint: string, rows: readonly TableRow[], keys: Map<string, string>, deleteFirst: boolean): BootstrapConfig | undefined {
  const mine = rows.filter((r) => (r.endpoint || '*').trim() === endpoint);
  const chosen = mine.length > 0 ? mine : rows.filter((r) => (r.endpoint || '*').trim() === '*');
  if (chosen.length === 0) return undefined;
  const servers: ServerAccountConfig[] = chosen.map((row) => {
    const server = { uri: String(row.uri ?? '').trim(), shortServerId: Number(row.ssid || 1) } as ServerAccountConfig;
    if (row.lifetime !== undefined && row.lifetime !== '') server.lifetime = Number(row.lifetime);
    if (row.binding) server.binding = row.binding;
    if (row.security === 'psk') {
      server.securityMode = 'psk';
      server.identity = (row.identity || '').trim() || endpoint;
      server.key = keys.get(endpoint) ?? randomBytes(16).toString('hex');
    } else {
      server.securityMode = 'nosec';
    }
    return server;
  });
  return { deleteFirst, servers };
}
