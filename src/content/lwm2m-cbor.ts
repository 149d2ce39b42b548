/**
 * LwM2M CBOR, content format 11544 (application/vnd.oma.lwm2m+cbor): OMA TS Core 1.2 section 7.4.6.
 *
 * A tree of CBOR maps keyed by path ids, e.g. `{3: {0: {0: "Open Mobile Alliance", 9: 95, 6: {0: 1, 1: 5}}}}`.
 * A key may also be an array of ids standing for several levels at once (`{[3, 0]: {...}}`, `{[3, 0, 9]: 95}`), and
 * the forms can be mixed at any level (`{[13, 26]: {1: 42}, [13, 26, 2]: 21}`). Values (Core 1.2 Appendix C.2):
 * integers, floats, text (String, Corelnk, and Objlnk as "O:I"), byte strings (Opaque), booleans, Time as an integer
 * (tag 1 epoch time, or a tag 0 date/time string, on decode) and `null` (a path with no value). Decimal fractions and
 * bignums are accepted on decode. Definite or indefinite-length items.
 *
 * Encoding writes the compact nested form: one map per level, a chain of single-child levels collapsed into one array
 * key (`{[3, 0]: {0: ..., 9: 95}}`, a single resource `{[3, 0, 9]: 95}`), ids in ascending order, Time as tag 1,
 * a Float resource as the shortest exact CBOR float even when whole (33.0 -> f9 5020), integers as integers.
 * The format carries no timestamps: a record's `time` is not written, and two records for one path (history) are an
 * EncodeError (use SenML for history).
 */
import { DecodeError, EncodeError, InvalidPathError } from '../errors';
import { Lwm2mPath, MAX_ID } from '../model/path';
import { ResourceType } from '../model/types';
import { CborItem, CborMap, CborTag, CborWriter, cborNumber, decodeCbor } from './cbor-wire';
import { Codec, CodecOptions, skipUndecoded } from './codec';
import { ContentFormat } from './formats';
import { parsePathCached } from './senml-common';
import { dateToSeconds, decodedToModel, formatObjectLink, resourceTypeOf, secondsToDate, toModelValue } from './typing';
import { isObjectLink, Lwm2mRecord, Lwm2mValue } from './values';

const F = ContentFormat.LWM2M_CBOR;

function fail(reason: string): never {
  throw new DecodeError(F, reason);
}

function keyIds(k: CborItem, at: readonly number[]): number[] {
  const check = (v: CborItem): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID) {
      fail(`map key under /${at.join('/')} must be an id from 0 to ${MAX_ID} or an array of ids`);
    }
    return v;
  };
  if (Array.isArray(k)) {
    if (k.length === 0) fail(`empty array key under /${at.join('/')}`);
    return k.map(check);
  }
  return [check(k)];
}

function makePath(ids: number[]): Lwm2mPath {
  if (ids.length > 4) fail(`path /${ids.join('/')} is deeper than a resource instance`);
  try {
    return parsePathCached('/' + ids.join('/'));
  } catch (e) {
    if (e instanceof InvalidPathError) throw new DecodeError(F, e.message, { cause: e });
    throw e;
  }
}

/** A leaf item -> the value the format itself says (before model typing); undefined for null. */
function leafValue(v: CborItem, path: Lwm2mPath, type: ResourceType | undefined): Lwm2mValue | undefined {
  if (v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'boolean' || Buffer.isBuffer(v)) return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof CborTag) {
    if (v.tag === 1) {
      const n = cborNumber(v.value);
      if (n === undefined) fail(`${path}: tag 1 (epoch time) must hold a number`);
      if (type !== undefined && type !== 'time') return n;
      return secondsToDate(typeof n === 'number' ? Math.floor(n) : n) ?? fail(`${path}: epoch time ${n} out of range`);
    }
    if (v.tag === 0) {
      const ms = typeof v.value === 'string' ? Date.parse(v.value) : NaN;
      if (Number.isNaN(ms)) fail(`${path}: tag 0 must hold an RFC 3339 date/time string`);
      return new Date(ms);
    }
    const n = cborNumber(v);
    if (n !== undefined) return n;
    fail(`${path}: unsupported CBOR tag ${v.tag}`);
  }
  return fail(`${path}: unsupported value (${v === undefined ? 'undefined' : Array.isArray(v) ? 'array' : 'map'})`);
}

function walk(map: CborMap, prefix: number[], opts: CodecOptions, out: Lwm2mRecord[]): void {
  for (const [k, v] of map.entries) {
    const ids = prefix.concat(keyIds(k, prefix));
    if (ids.length > 4) fail(`path /${ids.join('/')} is deeper than a resource instance`);
    if (v instanceof CborMap) {
      if (ids.length >= 4) fail(`/${ids.join('/')}: a resource instance cannot hold a map`);
      walk(v, ids, opts, out);
      continue;
    }
    const path = makePath(ids);
    if (!opts.path.contains(path)) fail(`${path} lies outside the requested path ${opts.path}`);
    const type = resourceTypeOf(opts.registry, path);
    const rec: Lwm2mRecord = { path };
    try {
      const wire = leafValue(v, path, type);
      if (wire !== undefined) {
        if (path.length < 3) fail(`${path}: a value needs a resource or resource instance path`);
        rec.value = decodedToModel(wire, type, F, path);
      }
    } catch (e) {
      if (skipUndecoded(opts, path, e)) continue;
      throw e;
    }
    out.push(rec);
  }
}

function decode(payload: Buffer, opts: CodecOptions): Lwm2mRecord[] {
  if (payload.length === 0) return [];
  const doc = decodeCbor(payload, F);
  if (!(doc instanceof CborMap)) fail('an LwM2M CBOR payload must be a CBOR map');
  const out: Lwm2mRecord[] = [];
  walk(doc, [], opts, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Encoding

interface Node {
  id: number;
  children?: Map<number, Node>;
  /** Set on leaves: the record's value (null for a path-only record). */
  leaf?: { value: Lwm2mValue | null; type: ResourceType | undefined };
}

function writeValue(w: CborWriter, value: Lwm2mValue | null, type: ResourceType | undefined): void {
  if (value === null) w.nul();
  else if (typeof value === 'string') w.text(value);
  else if (typeof value === 'number' || typeof value === 'bigint') {
    // A Float resource is a CBOR float even when whole (Core 1.2 Appendix C.2 / 7.4.6; as SenML CBOR), others integers.
    if (type === 'float') w.shortestFloat(Number(value));
    else w.number(value);
  }
  else if (typeof value === 'boolean') w.bool(value);
  else if (Buffer.isBuffer(value)) w.bytes(value);
  else if (value instanceof Date) w.tag(1).int(dateToSeconds(value));
  else if (isObjectLink(value)) w.text(formatObjectLink(value));
  else throw new EncodeError(F, `unsupported value ${String(value)}`);
}

function writeChildren(w: CborWriter, node: Node): void {
  const kids = [...node.children!.values()].sort((a, b) => a.id - b.id);
  w.map(kids.length);
  for (const kid of kids) {
    // Collapse a chain of single-child levels into one array key.
    const ids = [kid.id];
    let cur = kid;
    while (cur.leaf === undefined && cur.children!.size === 1) {
      cur = cur.children!.values().next().value as Node;
      ids.push(cur.id);
    }
    if (ids.length === 1) w.int(ids[0]);
    else {
      w.array(ids.length);
      for (const id of ids) w.int(id);
    }
    if (cur.leaf !== undefined) writeValue(w, cur.leaf.value, cur.leaf.type);
    else writeChildren(w, cur);
  }
}

function encode(records: readonly Lwm2mRecord[], opts: CodecOptions): Buffer {
  const root: Node = { id: -1, children: new Map() };
  for (let i = 0; i < records.length; i++) {
    const rec = records[i];
    const path = rec.path;
    if (!(path instanceof Lwm2mPath)) throw new EncodeError(F, `record ${i} has no valid path`);
    if (!opts.path.contains(path)) throw new EncodeError(F, `record ${path} lies outside the target path ${opts.path}`);
    if (path.length < 3 && rec.value !== undefined) {
      throw new EncodeError(F, `${path}: only resources and resource instances carry values`);
    }
    let node = root;
    for (const id of path.segments) {
      if (node.leaf !== undefined) throw new EncodeError(F, `${path}: a value already sits at a parent path`);
      let next = node.children!.get(id);
      if (next === undefined) {
        next = { id, children: new Map() };
        node.children!.set(id, next);
      }
      node = next;
    }
    if (node.leaf !== undefined) {
      throw new EncodeError(F, `${path} appears twice: LwM2M CBOR carries one value per path (no timestamps; use SenML)`);
    }
    if (node.children!.size > 0) throw new EncodeError(F, `${path}: a value cannot sit above other values`);
    const type = resourceTypeOf(opts.registry, path);
    const value = rec.value === undefined ? null : toModelValue(rec.value, type, F, path);
    node.leaf = { value, type };
    node.children = undefined;
  }
  const w = new CborWriter(F);
  writeChildren(w, root);
  return w.finish();
}

export const lwm2mCborCodec: Codec = {
  format: F,
  name: 'application/vnd.oma.lwm2m+cbor',
  multiPath: true,
  singleValue: false,
  encode,
  decode,
};
