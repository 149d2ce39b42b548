/**
 * Content formats on the client side: which ones it produces and consumes, which one it answers with when the server
 * sends no Accept option, and encode/decode wrappers that turn codec errors into the CoAP answers the spec asks for
 * (OMA TS Core 1.1 / 1.2 7.4 and Transport 1.1 / 1.2 6.x: 4.06 Not Acceptable when the client cannot produce the
 * Accept format, 4.15 Unsupported Content-Format when it cannot read the request's, 4.00 Bad Request for a payload that
 * does not decode).
 */
import { CoapResponseError, DecodeError, EncodeError, Lwm2mError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ObjectRegistry, ResourceType } from '../model/types';
import { Codec } from '../content/codec';
import { ContentFormat as CF } from '../content/formats';
import { Lwm2mRecord } from '../content/values';
import { textCodec } from '../content/text';
import { opaqueCodec } from '../content/opaque';
import { cborCodec } from '../content/cbor';
import { tlvCodec, oldTlvCodec } from '../content/tlv';
import { lwm2mJsonCodec } from '../content/lwm2m-json';
import { senmlJsonCodec } from '../content/senml-json';
import { senmlCborCodec } from '../content/senml-cbor';
import { lwm2mCborCodec } from '../content/lwm2m-cbor';

export type ClientVersion = '1.0' | '1.1' | '1.2';

const CODECS = new Map<number, Codec>();
for (const c of [textCodec, opaqueCodec, cborCodec, tlvCodec, oldTlvCodec, lwm2mJsonCodec, senmlJsonCodec, senmlCborCodec, lwm2mCborCodec]) {
  CODECS.set(c.format, c);
}
// Pre-registration numbers of the LwM2M 1.0 drafts, still sent by some peers (lwm2m-node-lib writes text as 1541):
// 1541 text, 1542 TLV, 1543 JSON, 1544 opaque. Each is read and written as its registered twin.
export const OLD_TEXT = 1541;
export const OLD_OPAQUE = 1544;
CODECS.set(CF.OLD_JSON, { ...lwm2mJsonCodec, format: CF.OLD_JSON });
CODECS.set(OLD_TEXT, { ...textCodec, format: OLD_TEXT });
CODECS.set(OLD_OPAQUE, { ...opaqueCodec, format: OLD_OPAQUE });

export function codecFor(format: number): Codec | undefined {
  return CODECS.get(format);
}

/** Formats the client announces in its registration (`ct=` on the root link, Core 1.1 6.2.1). */
export function announcedFormats(version: ClientVersion): number[] {
  if (version === '1.0') return [CF.LWM2M_JSON];
  const list: number[] = [CF.CBOR, CF.SENML_JSON, CF.SENML_CBOR, CF.TLV, CF.LWM2M_JSON];
  if (version === '1.2') list.push(CF.LWM2M_CBOR);
  return list;
}

/**
 * The format of an answer when the request has no Accept option: plain text (opaque for Opaque resources) for one
 * value; TLV for several values in 1.0 (the format every 1.0 peer has, Core 1.0.2 6.4), SenML CBOR from 1.1 on (Core
 * 1.1 7.4: 1.1 clients SHOULD NOT use TLV / LwM2M JSON any more).
 */
export function defaultFormat(version: ClientVersion, single: boolean, type?: ResourceType, composite = false): number {
  if (composite) return CF.SENML_CBOR;
  if (single) return type === 'opaque' ? CF.OPAQUE : CF.TEXT;
  return version === '1.0' ? CF.TLV : CF.SENML_CBOR;
}

/**
 * Encodes records for an answer. `explicit`: the server asked for this format (Accept), so a format that cannot carry
 * the records is 4.06 Not Acceptable; otherwise a failure is our bug (5.00).
 */
export function encodeRecords(format: number, records: readonly Lwm2mRecord[], path: Lwm2mPath, registry: ObjectRegistry, explicit: boolean): Buffer {
  const codec = CODECS.get(format);
  if (codec === undefined || format === CF.LINK) {
    throw new CoapResponseError('4.06', 'encode', `cannot produce content format ${format}`);
  }
  try {
    return codec.encode(records, { registry, path });
  } catch (err) {
    if (err instanceof EncodeError) {
      throw new CoapResponseError(explicit ? '4.06' : '5.00', 'encode', err.message);
    }
    throw err;
  }
}

/** Decodes a request payload; 4.15 for a format we do not read, 4.00 for a payload that does not decode. */
export function decodeRecords(format: number | undefined, payload: Buffer, path: Lwm2mPath, registry: ObjectRegistry): Lwm2mRecord[] {
  if (format === undefined) throw new CoapResponseError('4.00', 'decode', 'Content-Format option missing');
  const codec = CODECS.get(format);
  if (codec === undefined) throw new CoapResponseError('4.15', 'decode', `content format ${format} is not supported`);
  try {
    return codec.decode(payload, { registry, path });
  } catch (err) {
    if (err instanceof DecodeError || err instanceof Lwm2mError) throw new CoapResponseError('4.00', 'decode', err.message);
    throw new CoapResponseError('4.00', 'decode', err instanceof Error ? err.message : String(err));
  }
}
