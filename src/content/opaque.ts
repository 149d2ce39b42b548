/**
 * application/octet-stream (content-format 42): the raw bytes of one Opaque resource or resource instance.
 * OMA TS Core 1.1 / 1.2 section 7.4.2 "Opaque": only for resources of type Opaque.
 */
import { DecodeError, EncodeError } from '../errors';
import { Codec, CodecOptions } from './codec';
import { ContentFormat } from './formats';
import { singleRecord, singleValuePath } from './text';
import { resourceTypeOf, toModelValue } from './typing';
import { Lwm2mRecord } from './values';

const FORMAT = ContentFormat.OPAQUE;

export const opaqueCodec: Codec = {
  format: FORMAT,
  name: 'application/octet-stream',
  multiPath: false,
  singleValue: true,
  encode(records: readonly Lwm2mRecord[], opts: CodecOptions): Buffer {
    const r = singleRecord(records, opts, FORMAT);
    const type = resourceTypeOf(opts.registry, r.path);
    if (type !== undefined && type !== 'opaque') {
      throw new EncodeError(FORMAT, `${r.path} is of type ${type}; the opaque format carries only Opaque resources`);
    }
    const v = toModelValue(r.value, 'opaque', FORMAT, r.path);
    return Buffer.from(v as Buffer);
  },
  decode(payload: Buffer, opts: CodecOptions): Lwm2mRecord[] {
    const path = singleValuePath(opts, FORMAT);
    const type = resourceTypeOf(opts.registry, path);
    if (type !== undefined && type !== 'opaque') {
      throw new DecodeError(FORMAT, `${path} is of type ${type}; the opaque format carries only Opaque resources`);
    }
    // A copy: the payload may live in a receive buffer that is reused.
    return [{ path, value: Buffer.from(payload) }];
  },
};
