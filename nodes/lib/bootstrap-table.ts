/**
 * The bootstrap node's editor table as bootstrap configurations; PSK keys come from the node's credentials.
 */
import type { BootstrapConfig, ServerAccountConfig } from '../../src/bootstrap/config';
import { FlowInputError } from './util';

export interface TableRow {
  endpoint?: string;
  uri?: string;
  ssid?: string | number;
  lifetime?: string | number;
  binding?: string;
  security?: string;
  identity?: string;
}

/** `ep1=00112233, ep2=a1b2` (keys by endpoint, hex) from the password credential. */
export function parseKeys(text: string | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  for (const part of String(text ?? '').split(/[,\n]/)) {
    const t = part.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new FlowInputError(`PSK keys: "${t.slice(0, 20)}" is not endpoint=hexkey`);
    keys.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
  }
  return keys;
}

export function rowToConfig(row: TableRow, keys: Map<string, string>, deleteFirst: boolean): BootstrapConfig {
  const endpoint = (row.endpoint || '*').trim();
  const server: ServerAccountConfig = {
    uri: String(row.uri ?? '').trim(),
    shortServerId: Number(row.ssid ?? 1),
  } as ServerAccountConfig;
  if (row.lifetime !== undefined && row.lifetime !== '') server.lifetime = Number(row.lifetime);
  if (row.binding) server.binding = row.binding;
  if (row.security === 'psk') {
    server.securityMode = 'psk';
    server.identity = (row.identity || endpoint).trim();
    server.key = keys.get(endpoint);
  } else {
    server.securityMode = 'nosec';
  }
  return { deleteFirst, servers: [server] };
}

