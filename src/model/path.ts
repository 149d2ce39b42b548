import { InvalidPathError } from '../errors';

/** Highest id of an object, resource or resource instance: ids are 16-bit unsigned (OMA TS Core 7.1). */
export const MAX_ID = 65535;
/** Object instance id 65535 is reserved (OMA TS Core 7.4: "MAX_ID 65535 is a reserved value"). */
export const MAX_INSTANCE_ID = 65534;

export type PathLevel = 'root' | 'object' | 'instance' | 'resource' | 'resourceInstance';
/** Length of the longest string {@link Lwm2mPath.parse} can accept: 4 segments of at most 5 digits, slashes, trailing slash. */
const MAX_PATH_LENGTH = 25;
/** Text for an error message about a value of any type (String() throws on some objects). */
function show(v: unknown): string {
  try { return String(v); } catch { return typeof v; }
}
const LEVELS: PathLevel[] = ['root', 'object', 'instance', 'resource', 'resourceInstance'];
/** Passed by parse() to the constructor: the ids were checked already (not exported: no one else can pass it). */
const TRUSTED: unique symbol = Symbol('trusted ids');

/**
 * An LwM2M path: `/`, `/O`, `/O/I`, `/O/I/R` or `/O/I/R/RI`. Immutable.
 */
export class Lwm2mPath {
  static readonly ROOT = new Lwm2mPath([]);
  private readonly ids: readonly number[];
  private str: string | undefined;

  constructor(ids: readonly number[], trusted?: typeof TRUSTED) {
    if (trusted === TRUSTED) {
      // From parse(): `ids` is a fresh array already checked.
      this.ids = Object.freeze(ids as number[]);
      return;
    }
    if (!Array.isArray(ids)) throw new InvalidPathError(show(ids), 'not an array of ids');
    if (ids.length > 4) throw new InvalidPathError('/' + ids.map(show).join('/'), 'more than 4 segments');
    // A plain loop (not forEach) so holes in a sparse array are checked too.
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const max = i === 1 ? MAX_INSTANCE_ID : MAX_ID;
      if (!Number.isInteger(id) || id < 0 || id > max) {
        throw new InvalidPathError('/' + Array.from(ids, show).join('/'), `segment ${i + 1} must be an integer from 0 to ${max}`);
      }
    }
    this.ids = Object.freeze([...ids]);
  }

  /** Parses `/3/0/1`; also accepts `/` for the root. A trailing slash (`/3/0/`) is accepted, empty inner segments are not. */
  static parse(input: string): Lwm2mPath {
    if (typeof input !== 'string') throw new InvalidPathError(show(input), 'not a string');
    if (input === '/') return Lwm2mPath.ROOT;
    const fast = Lwm2mPath.parseFast(input);
    if (fast !== undefined) return fast;
    return Lwm2mPath.parseSlow(input);
  }

  /**
   * One pass over a well-formed path (`/` then 1-4 segments of 1-5 ASCII digits separated by `/`, an optional trailing
   * `/`, ids in range): the same acceptance as {@link Lwm2mPath.parseSlow}, without splitting or regular
   * expressions. Returns undefined for anything else; the reference parser then names the error.
   */
  private static parseFast(input: string): Lwm2mPath | undefined {
    const n = input.length;
    if (n < 2 || n > MAX_PATH_LENGTH || input.charCodeAt(0) !== 0x2f) return undefined;
    const end = input.charCodeAt(n - 1) === 0x2f ? n - 1 : n;
    const ids: number[] = [];
    let canonical = end === n;
    let i = 1;
    for (;;) {
      const start = i;
      let v = 0;
      while (i < end) {
        const c = input.charCodeAt(i);
        if (c === 0x2f) break;
        if (c < 0x30 || c > 0x39) return undefined;
        v = v * 10 + (c - 0x30);
        i++;
      }
      const digits = i - start;
      if (digits === 0 || digits > 5 || ids.length === 4) return undefined;
      if (v > (ids.length === 1 ? MAX_INSTANCE_ID : MAX_ID)) return undefined;
      if (digits > 1 && input.charCodeAt(start) === 0x30) canonical = false; // leading zero
      ids.push(v);
      if (i >= end) break;
      i++; // the '/'
    }
    const p = new Lwm2mPath(ids, TRUSTED);
    if (canonical) p.str = input;
    return p;
  }

  /** The reference parser: gives the precise error for anything {@link parseFast} does not accept. */
  private static parseSlow(input: string): Lwm2mPath {
    // The longest valid path is "/65535/65534/65535/65535/" (segments of at most 5 digits): refuse longer input before
    // splitting it, so a huge string costs no allocation.
    if (input.length > MAX_PATH_LENGTH) throw new InvalidPathError(input.slice(0, 40) + '…', `longer than ${MAX_PATH_LENGTH} characters`);
    if (!input.startsWith('/')) throw new InvalidPathError(input, 'must start with "/"');
    const body = input.endsWith('/') ? input.slice(1, -1) : input.slice(1);
    const parts = body.split('/');
    if (parts.length > 4) throw new InvalidPathError(input, 'more than 4 segments');
    const ids = parts.map((p, i) => {
      if (p === '') throw new InvalidPathError(input, `segment ${i + 1} is empty`);
      if (!/^\d{1,5}$/.test(p)) throw new InvalidPathError(input, `segment ${i + 1} "${p}" is not a number`);
      const n = Number(p);
      const max = i === 1 ? MAX_INSTANCE_ID : MAX_ID;
      if (n > max) throw new InvalidPathError(input, `segment ${i + 1} (${n}) is above ${max}`);
      return n;
    });
    return new Lwm2mPath(ids);
  }

  /** Accepts a path, a string or an id array. */
  static from(p: Lwm2mPath | string | readonly number[]): Lwm2mPath {
    if (p instanceof Lwm2mPath) return p;
    if (typeof p === 'string') return Lwm2mPath.parse(p);
    if (Array.isArray(p)) return new Lwm2mPath(p);
    throw new InvalidPathError(show(p), 'not a path, a string or an array of ids');
  }

  get objectId(): number | undefined { return this.ids[0]; }
  get instanceId(): number | undefined { return this.ids[1]; }
  get resourceId(): number | undefined { return this.ids[2]; }
  get resourceInstanceId(): number | undefined { return this.ids[3]; }
  get length(): number { return this.ids.length; }
  get level(): PathLevel { return LEVELS[this.ids.length]; }
  get segments(): readonly number[] { return this.ids; }

  isRoot(): boolean { return this.ids.length === 0; }
  isObject(): boolean { return this.ids.length === 1; }
  isInstance(): boolean { return this.ids.length === 2; }
  isResource(): boolean { return this.ids.length === 3; }
  isResourceInstance(): boolean { return this.ids.length === 4; }

  /** A path one level deeper. */
  child(id: number): Lwm2mPath { return new Lwm2mPath([...this.ids, id]); }
  /** The path one level up (the root stays the root). */
  parent(): Lwm2mPath { return this.ids.length === 0 ? this : new Lwm2mPath(this.ids.slice(0, -1)); }

  /** True when `other` equals this path or lies below it. */
  contains(other: Lwm2mPath): boolean {
    if (other.ids.length < this.ids.length) return false;
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] !== other.ids[i]) return false;
    return true;
  }

  equals(other: Lwm2mPath): boolean {
    return other.ids.length === this.ids.length && this.contains(other);
  }

  /** Orders paths like a depth-first walk of the object tree. */
  static compare(a: Lwm2mPath, b: Lwm2mPath): number {
    const n = Math.min(a.ids.length, b.ids.length);
    for (let i = 0; i < n; i++) if (a.ids[i] !== b.ids[i]) return a.ids[i] - b.ids[i];
    return a.ids.length - b.ids.length;
  }

  toString(): string {
    if (this.str === undefined) this.str = this.ids.length === 0 ? '/' : '/' + this.ids.join('/');
    return this.str;
  }

  toJSON(): string { return this.toString(); }
}

