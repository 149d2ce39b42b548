/**
 * The codec registry: content format number -> {@link Codec}. Link-format (40) is not here: it carries links, not
 * values (see link.ts).
 *
 * `decode` / `encode` guarantee the Codec contract even if a codec has a bug: anything thrown that is not an
 * {@link Lwm2mError} is wrapped into a DecodeError / EncodeError (with the original as `cause`), so callers only ever
 * see typed errors.
 */
import { DecodeError, EncodeError, Lwm2mError, UnsupportedFormatError } from '../errors';
import { cborCodec } from './cbor';
import { Codec, CodecOptions } from './codec';
import { lwm2mCborCodec } from './lwm2m-cbor';
import { lwm2mJsonCodec, oldLwm2mJsonCodec } from './lwm2m-json';
import { opaqueCodec } from './opaque';
import { senmlCborCodec } from './senml-cbor';
import { senmlJsonCodec } from './senml-json';
import { textCodec } from './text';
import { oldTlvCodec, tlvCodec } from './tlv';
import { Lwm2mRecord } from './values';

const CODECS = new Map<number, Codec>();
for (const c of [textCodec, opaqueCodec, cborCodec, senmlJsonCodec, senmlCborCodec, tlvCodec, oldTlvCodec, lwm2mJsonCodec,
  oldLwm2mJsonCodec, lwm2mCborCodec]) {
  CODECS.set(c.format, c);
}

/** Every content format number a built-in codec is registered for. */
export const SUPPORTED_FORMATS: readonly number[] = Object.freeze([...CODECS.keys()].sort((a, b) => a - b));

/** Registers (or replaces) the codec for `codec.format`, e.g. a vendor-specific format. */
export function registerCodec(codec: Codec): void {
  CODECS.set(codec.format, codec);
}

/** True when a codec handles `format`. */
export function hasCodec(format: number): boolean {
  return CODECS.has(format);
}

/** The codec for a content format number; throws UnsupportedFormatError for formats we do not implement. */
export function getCodec(format: number): Codec {
  const c = CODECS.get(format);
  if (c === undefined) throw new UnsupportedFormatError(format);
  return c;
}

/** Encodes records in `format`. Throws UnsupportedFormatError or EncodeError. */
export function encode(format: number, records: readonly Lwm2mRecord[], opts: CodecOptions): Buffer {
  const c = getCodec(format);
  try {
    return c.encode(records, opts);
  } catch (e) {
    if (e instanceof EncodeError) throw e;
    throw new EncodeError(format, e instanceof Lwm2mError ? e.message : `unexpected failure: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/** Decodes a payload in `format`. Throws UnsupportedFormatError or DecodeError. */
export function decode(format: number, payload: Buffer, opts: CodecOptions): Lwm2mRecord[] {
  const c = getCodec(format);
  try {
    return c.decode(payload, opts);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(format, e instanceof Lwm2mError ? e.message : `unexpected failure: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

export type { Codec, CodecOptions, UndecodedRecord } from './codec';
export { ContentFormat, formatName, FORMAT_NAMES } from './formats';
export type { Lwm2mRecord, Lwm2mValue, ObjectLink } from './values';
export { chooseFormat, fallbackFormats, formatsFor, mandatoryFormats, normalizeVersion, recommendedFormats } from './choose';
export type { FormatQuery, Lwm2mVersion, RequestKind } from './choose';
export { pathMapToRecords, recordsToPathMap, recordsToTree, treeToRecords } from './tree';
export type { TreeNode } from './tree';
