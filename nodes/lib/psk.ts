/**
 * PSK credentials as typed in a node's password credential: `endpoint=hexkey` (the identity is the endpoint name) or
 * `endpoint:identity=hexkey`, separated by commas or new lines.
 */
import { FlowInputError } from './util';

export interface PskEntry { endpoint: string; identity: string; key: Buffer }

export function parsePskList(text: string | undefined): PskEntry[] {
  const out: PskEntry[] = [];
  for (const part of String(text ?? '').split(/[,\n]/)) {
    const t = part.trim();
    if (!t) continue;
    const eq = t.lastIndexOf('=');
    if (eq <= 0) throw new FlowInputError(`"${t.slice(0, 24)}" is not endpoint=hexkey or endpoint:identity=hexkey`);
    const who = t.slice(0, eq).trim();
    const hex = t.slice(eq + 1).trim();
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new FlowInputError(`the key of ${who.split(':')[0]} is not hex`);
    const colon = who.indexOf(':');
    const endpoint = colon > 0 ? who.slice(0, colon).trim() : who;
    const identity = colon > 0 ? who.slice(colon + 1).trim() : who;
    if (!endpoint || !identity) throw new FlowInputError(`"${who}" needs an endpoint (and optionally :identity)`);
    out.push({ endpoint, identity, key: Buffer.from(hex, 'hex') });
  }
  return out;
}
