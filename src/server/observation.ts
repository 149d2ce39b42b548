/**
 * An observation the server holds on a device (OMA TS Core 1.1 section 6.4: Observe, Observe-Composite; RFC 7641).
 * Plain JSON: persisted by the file store so notifications after a restart are still delivered.
 */
export interface Observation {
  /** Observation id: the token in hex. */
  id: string;
  /** CoAP token (hex) the device repeats in every notification. */
  token: string;
  endpoint: string;
  registrationId: string;
  /** Observed paths: one for Observe, several for Observe-Composite. */
  paths: string[];
  composite: boolean;
  /** Content format requested with Accept (notifications may carry another one; they are decoded by their own). */
  format?: number;
  /** Content format of the Observe-Composite request payload (needed to cancel it actively). */
  requestFormat?: number;
  createdAt: number;
  /** Free label of whoever started it (e.g. the id of a Node-RED node), kept across restarts. */
  owner?: string;
}

export function tokenHex(token: Buffer): string {
  return token.toString('hex');
}

export function sameObservedPaths(a: Observation, b: Observation): boolean {
  if (a.composite !== b.composite || a.paths.length !== b.paths.length) return false;
  const sa = [...a.paths].sort();
  const sb = [...b.paths].sort();
  return sa.every((p, i) => p === sb[i]);
}
