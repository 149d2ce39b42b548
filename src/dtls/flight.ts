import { ContentType, RECORD_HEADER_LENGTH } from './constants';
import { fragmentHandshake } from './handshake-messages';

/**
 * Flights (RFC 6347 4.2.4): the messages one side sends before waiting for the other, kept so the whole flight can be
 * retransmitted. Each transmission seals the records again, so retransmitted records carry new sequence numbers
 * (4.2.4: "retransmitted ... with new record sequence numbers"), and packs them into as few datagrams as the MTU
 * allows. Handshake messages too large for one record are fragmented (4.2.3).
 */

export interface FlightEntry {
  /** ContentType.Handshake (a whole message, header included, from encodeHandshake) or ContentType.ChangeCipherSpec */
  type: ContentType.Handshake | ContentType.ChangeCipherSpec;
  epoch: number;
  /** the whole handshake message (unused for ChangeCipherSpec) */
  message: Buffer;
  /**
   * Never fragment (the ClientHello: a server answers it statelessly, so it cannot reassemble it, RFC 6347 4.2.1; a PSK
   * ClientHello is small enough for any path).
   */
  whole?: boolean;
}

export const CHANGE_CIPHER_SPEC_BODY = Buffer.from([1]);

/** Seals one record of the given epoch (the connection's write state). */
export type Sealer = (type: number, epoch: number, plaintext: Buffer) => Buffer;
/** Largest expansion of a record of the given epoch (0 for the null cipher). */
export type OverheadOf = (epoch: number) => number;

/** Seals every message of the flight into records and packs the records into datagrams of at most `mtu` bytes. */
export function packFlight(entries: readonly FlightEntry[], mtu: number, seal: Sealer, overheadOf: OverheadOf): Buffer[] {
  const records: Buffer[] = [];
  for (const e of entries) {
    if (e.type === ContentType.ChangeCipherSpec) {
      records.push(seal(ContentType.ChangeCipherSpec, e.epoch, CHANGE_CIPHER_SPEC_BODY));
      continue;
    }
    const room = e.whole ? Infinity : mtu - RECORD_HEADER_LENGTH - overheadOf(e.epoch);
    for (const frag of fragmentHandshake(e.message, room)) records.push(seal(ContentType.Handshake, e.epoch, frag));
  }
  const datagrams: Buffer[] = [];
  let batch: Buffer[] = [];
  let size = 0;
  for (const r of records) {
    if (size > 0 && size + r.length > mtu) {
      datagrams.push(batch.length === 1 ? batch[0] : Buffer.concat(batch, size));
      batch = [];
      size = 0;
    }
    batch.push(r);
    size += r.length;
  }
  if (size > 0) datagrams.push(batch.length === 1 ? batch[0] : Buffer.concat(batch, size));
  return datagrams;
}

/** Retransmission timer values of RFC 6347 4.2.4.1: start at `initialMs`, double on each expiry, at most `maxMs`. */
export function nextTimeout(currentMs: number, maxMs: number): number {
  return Math.min(currentMs * 2, maxMs);
}
