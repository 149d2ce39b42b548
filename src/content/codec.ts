import { DecodeError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ObjectRegistry } from '../model/types';
import { Lwm2mRecord } from './values';

export interface CodecOptions {
  /** Where resource types come from. Unknown objects/resources fall back to what the format itself says. */
  registry: ObjectRegistry;
  /**
   * The path the payload is for: the request's target (`/3/0` for a Read of an instance). Hierarchical formats (TLV)
   * need it; composite payloads use the root.
   */
  path: Lwm2mPath;
  /**
   * Lenient decoding: when given, a record that is well-formed on the wire but whose value cannot be decoded (it does
   * not fit the model's type, the model says the resource carries none, a TLV value of the wrong size...) is left out
   * of the result and listed here instead of failing the whole payload. Malformed structure still throws.
   */
  undecoded?: UndecodedRecord[];
}

/** A record left out by lenient decoding ({@link CodecOptions.undecoded}): its path and why. */
export interface UndecodedRecord {
  path: Lwm2mPath;
  reason: string;
}

/**
 * For a codec's per-record catch: with `opts.undecoded` (lenient decoding), a DecodeError about the record at `path`
 * is listed there and true returned (skip the record); otherwise false (the caller rethrows). The reason drops the
 * "cannot decode content format N:" prefix.
 */
export function skipUndecoded(opts: CodecOptions, path: Lwm2mPath, e: unknown): boolean {
  if (opts.undecoded === undefined || !(e instanceof DecodeError)) return false;
  opts.undecoded.push({ path, reason: e.message.replace(/^cannot decode content format \d+: /, '') });
  return true;
}

/**
 * A content format codec. `encode` takes records whose paths lie at or below `opts.path`; `decode` returns records
 * with absolute paths. Decoders throw only {@link DecodeError}; encoders only {@link EncodeError}.
 */
export interface Codec {
  readonly format: number;
  readonly name: string;
  /** True for formats that can carry several paths and timestamps (SenML, LwM2M JSON, LwM2M CBOR). */
  readonly multiPath: boolean;
  /** True for formats that carry exactly one value (text, opaque, CBOR single value). */
  readonly singleValue: boolean;
  encode(records: readonly Lwm2mRecord[], opts: CodecOptions): Buffer;
  decode(payload: Buffer, opts: CodecOptions): Lwm2mRecord[];
}
