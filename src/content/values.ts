import { Lwm2mPath } from '../model/path';

/** An object link (Objlnk), OMA TS Core Appendix C: `O:I`. */
export interface ObjectLink {
  objectId: number;
  instanceId: number;
}

/**
 * A resource value, typed from the model:
 * string (String, and Corelnk as its link-format text), number or bigint (Integer and Unsigned Integer, bigint beyond
 * 2^53), number (Float), boolean, Buffer (Opaque), Date (Time), ObjectLink (Objlnk).
 */
export type Lwm2mValue = string | number | bigint | boolean | Buffer | Date | ObjectLink;

/**
 * One value at one path: the unit every codec encodes and decodes. A payload is a list of records.
 *
 * - `path` is absolute: a resource (`/3/0/0`) or resource instance (`/3/0/7/1`).
 * - `value` is absent in records that only name a path (the request of Read-Composite / Observe-Composite, SenML
 *   records without a value).
 * - `time` is an absolute time in seconds since the epoch (SenML `bt` + `t` resolved; LwM2M JSON `bt` + `t`), kept when
 *   the payload carries one (Send, notifications with history).
 */
export interface Lwm2mRecord {
  path: Lwm2mPath;
  value?: Lwm2mValue;
  time?: number;
}

export function isObjectLink(v: unknown): v is ObjectLink {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !(v instanceof Date)
    && typeof (v as ObjectLink).objectId === 'number' && typeof (v as ObjectLink).instanceId === 'number';
}
