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
