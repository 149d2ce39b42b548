/**
 * application/link-format (content-format 40), RFC 6690 (CoRE Link Format), and the LwM2M uses of it:
 * registration payloads (OMA TS Transport 1.1 / 1.2 section 6.2.1, Core 1.1 section 6.2.1 / 1.2 section 6.2.1 "Register")
 * and Discover answers (Core 1.1 section 5.4.2 / 6.3.x "Discover", Core 1.2 section 6.3.2).
 *
 * RFC 6690 section 2:
 *   Link            = link-value-list
 *   link-value-list = [ link-value *[ "," link-value ]]
 *   link-value      = "<" URI-Reference ">" *( ";" link-param )
 *   link-extension  = ( parmname [ "=" ( ptoken / quoted-string ) ] )
 * Quoted strings (RFC 2616 section 2.2) may hold "," and ";" and backslash-escaped characters. The parser is lenient
 * about optional whitespace around separators (some devices send "</1/0>, </3/0>"), strict about everything else,
 * and bounded: at most {@link MAX_LINK_INPUT} bytes and {@link MAX_LINKS} links.
 */
import { DecodeError, EncodeError } from '../errors';
import { Lwm2mPath, MAX_ID, MAX_INSTANCE_ID } from '../model/path';
import { ContentFormat } from './formats';

const FORMAT = ContentFormat.LINK;
/** Largest link-format input accepted (bytes). */
export const MAX_LINK_INPUT = 1024 * 1024;
/** Most links accepted in one payload. */
export const MAX_LINKS = 10000;
/** Most parameters accepted on one link. */
export const MAX_LINK_PARAMS = 64;

export interface Link {
  uri: string;
  /** Parameters in order; a parameter without a value is `true`; quoted values are unquoted and unescaped. */
  params: Record<string, string | true>;
}

// RFC 6690 ptokenchar: "!" / "#" / "$" / "%" / "&" / "'" / "(" / ")" / "*" / "+" / "-" / "." / "/" / DIGIT / ":" /
// "<" / "=" / ">" / "?" / "@" / ALPHA / "[" / "]" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
const PTOKEN = new Uint8Array(128);
for (const c of "!#$%&'()*+-./:<=>?@[]^_`{|}~") PTOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) PTOKEN[c] = 1;
for (let c = 65; c <= 90; c++) { PTOKEN[c] = 1; PTOKEN[c + 32] = 1; }
// parmname (RFC 5988 / RFC 8288 token): ALPHA / DIGIT / "!#$&+-.^_`|~", plus "*" for the RFC 5987 ext-value form.
const PARMNAME = new Uint8Array(128);
for (const c of '!#$&+-.^_`|~*') PARMNAME[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) PARMNAME[c] = 1;
for (let c = 65; c <= 90; c++) { PARMNAME[c] = 1; PARMNAME[c + 32] = 1; }

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

const hasOwn = Object.prototype.hasOwnProperty;

function setParam(params: Record<string, string | true>, name: string, value: string | true): void {
  if (hasOwn.call(params, name)) return; // the first occurrence wins
  // "__proto__" is the one name whose assignment would not create an own property (it sets the prototype).
  if (name === '__proto__') Object.defineProperty(params, name, { value, enumerable: true, writable: true, configurable: true });
  else params[name] = value;
}

/** Parses a link-format payload (string or UTF-8 bytes). Throws DecodeError(40) on malformed input. */
export function parseLinks(input: string | Buffer): Link[] {
  let text: string;
  if (Buffer.isBuffer(input)) {
    if (input.length > MAX_LINK_INPUT) throw new DecodeError(FORMAT, `payload of ${input.length} bytes exceeds ${MAX_LINK_INPUT}`);
    text = input.toString('utf8');
  } else if (typeof input === 'string') {
    if (input.length > MAX_LINK_INPUT) throw new DecodeError(FORMAT, `payload of ${input.length} characters exceeds ${MAX_LINK_INPUT}`);
    text = input;
  } else {
    throw new DecodeError(FORMAT, 'input is not a string');
  }
  const n = text.length;
  const links: Link[] = [];
  const fail = (at: number, why: string): never => {
    throw new DecodeError(FORMAT, `${why} at character ${at}`);
  };
  let i = 0;
  const skipWs = (): void => { while (i < n && isWs(text.charCodeAt(i))) i++; };
  skipWs();
  if (i === n) return links;
  for (;;) {
    skipWs();
    if (text.charCodeAt(i) !== 0x3c /* < */) fail(i, 'expected "<"');
    const close = text.indexOf('>', i + 1);
    if (close < 0) fail(i, 'unterminated "<"');
    const uri = text.slice(i + 1, close);
    for (let k = 0; k < uri.length; k++) {
      const c = uri.charCodeAt(k);
      if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x22) fail(i + 1 + k, 'invalid character in URI');
    }
    i = close + 1;
    if (links.length >= MAX_LINKS) fail(i, `more than ${MAX_LINKS} links`);
    const params: Record<string, string | true> = {};
    let count = 0;
    skipWs();
    while (i < n && text.charCodeAt(i) === 0x3b /* ; */) {
      i++;
      skipWs();
      const nameStart = i;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c >= 128 || PARMNAME[c] === 0) break;
        i++;
      }
      if (i === nameStart) fail(i, 'expected a parameter name');
      const name = text.slice(nameStart, i);
      if (++count > MAX_LINK_PARAMS) fail(i, `more than ${MAX_LINK_PARAMS} parameters on one link`);
      skipWs();
      if (i < n && text.charCodeAt(i) === 0x3d /* = */) {
        i++;
        skipWs();
        if (i < n && text.charCodeAt(i) === 0x22 /* " */) {
          // quoted-string with backslash escapes
          i++;
          let value = '';
          let segStart = i;
          for (;;) {
            if (i >= n) fail(i, 'unterminated quoted string');
            const c = text.charCodeAt(i);
            if (c === 0x22) break;
            if (c === 0x5c /* \ */) {
              if (i + 1 >= n) fail(i, 'unterminated quoted string');
              value += text.slice(segStart, i);
              segStart = i + 1;
              i += 2;
              continue;
            }
            i++;
          }
          value += text.slice(segStart, i);
          i++; // closing quote
          setParam(params, name, value);
        } else {
          const vStart = i;
          while (i < n) {
            const c = text.charCodeAt(i);
            if (c === 0x2c || c === 0x3b || isWs(c)) break;
            if (c >= 128 || PTOKEN[c] === 0) fail(i, `invalid character ${JSON.stringify(text[i])} in the value of "${name}"`);
            i++;
          }
          if (i === vStart) fail(i, `empty value for "${name}"`);
          setParam(params, name, text.slice(vStart, i));
        }
      } else {
        setParam(params, name, true);
      }
      skipWs();
    }
    links.push({ uri, params });
    if (i >= n) break;
    if (text.charCodeAt(i) !== 0x2c /* , */) fail(i, 'expected "," or ";"');
    i++;
    skipWs();
    if (i >= n) fail(i, 'trailing ","');
  }
  return links;
}

/** Parameters always written as quoted strings (RFC 6690 examples, and what LwM2M peers expect: rt="oma.lwm2m"). */
const ALWAYS_QUOTED = new Set(['rt', 'if', 'anchor', 'title', 'uri', 'rel', 'rev']);

function isPtoken(s: string): boolean {
  if (s.length === 0) return false;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 128 || PTOKEN[c] === 0) return false;
  }
  return true;
}

function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

function checkName(name: string): void {
  if (name.length === 0) throw new EncodeError(FORMAT, 'empty parameter name');
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c >= 128 || PARMNAME[c] === 0) throw new EncodeError(FORMAT, `invalid parameter name ${JSON.stringify(name)}`);
  }
}

/** Formats one parameter value: a ptoken as is, anything else (and rt, if, ...) as a quoted string. */
function formatParam(name: string, value: string | number | boolean | undefined): string {
  checkName(name);
  if (value === true) return name;
  const s = String(value);
  return `${name}=${!ALWAYS_QUOTED.has(name) && isPtoken(s) ? s : quote(s)}`;
}

/** Formats links as link-format text (no whitespace). Throws EncodeError(40) for a URI or name that cannot be written. */
export function formatLinks(links: readonly Link[]): string {
  const parts: string[] = [];
  for (const l of links) {
    if (typeof l.uri !== 'string' || /[<>"\s]/.test(l.uri)) throw new EncodeError(FORMAT, `invalid link URI ${JSON.stringify(l.uri)}`);
    let s = `<${l.uri}>`;
    for (const [name, value] of Object.entries(l.params ?? {})) {
      if (value === undefined || (value as unknown) === false) continue;
      s += ';' + formatParam(name, value);
    }
    parts.push(s);
  }
  return parts.join(',');
}

// ---------------------------------------------------------------------------------------------------------------
// Registration payloads

export interface RegisteredObject {
  objectId: number;
  /** Object version from `ver=` (absent means the version the LwM2M version implies, usually 1.0). */
  version?: string;
  /** Instance ids, in the order the payload lists them. */
  instances: number[];
}

export interface RegistrationLinks {
  /** `/` or the alternate path named by the link with `rt="oma.lwm2m"` (e.g. `/lwm2m`). */
  rootPath: string;
  /** Content formats the client supports, from `ct=` on the root link (`ct=110` or `ct="60 110"`). */
  ct?: number[];
  objects: RegisteredObject[];
  /** Links that are neither the root link nor an object / object-instance link under the root (kept, not judged). */
  others: Link[];
}

function hasRt(link: Link, rt: string): boolean {
  const v = link.params.rt;
  return typeof v === 'string' && (v === rt || v.split(' ').includes(rt));
}

function parseCt(v: string | true, at: string): number[] {
  if (v === true) throw new DecodeError(FORMAT, `${at}: ct without a value`);
  // The usual case, one format (`ct=112`): 1-5 ASCII digits.
  if (v.length >= 1 && v.length <= 5) {
    let n = 0;
    let k = 0;
    for (; k < v.length; k++) {
      const c = v.charCodeAt(k);
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
    }
    if (k === v.length && n <= 65535) return [n];
  }
  const parts = v.trim().split(/\s+/);
  return parts.map((p) => {
    if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) throw new DecodeError(FORMAT, `${at}: invalid content format "${p}" in ct`);
    return Number(p);
  });
}

/** `/lwm2m/` -> `/lwm2m`; `''` -> `/`. */
function normalizeRoot(uri: string): string {
  let r = uri.startsWith('/') ? uri : '/' + uri;
  while (r.length > 1 && r.endsWith('/')) r = r.slice(0, -1);
  return r;
}

/**
 * Parses the ids of an object or object-instance URI under `root`, or undefined for any other URI. The part after the
 * root must be `/O`, `/O/I`, `/O/` or `/O/I/` with ids of 1-5 ASCII digits, O <= 65535 and I <= 65534 (Core 1.1 7.1,
 * 7.4), as {@link Lwm2mPath.parse} reads them. One pass, no regular expression, no substring.
 */
function objectIds(uri: string, root: string): number[] | undefined {
  let i: number;
  if (root === '/') i = 0;
  else if (uri.length > root.length && uri.charCodeAt(root.length) === 0x2f && uri.startsWith(root)) i = root.length;
  else return undefined;
  if (uri.charCodeAt(i) !== 0x2f) return undefined;
  let end = uri.length;
  if (end - i >= 2 && uri.charCodeAt(end - 1) === 0x2f) end--; // one trailing slash
  i++;
  const ids: number[] = [];
  for (;;) {
    const start = i;
    let v = 0;
    while (i < end) {
      const c = uri.charCodeAt(i);
      if (c === 0x2f) break;
      if (c < 0x30 || c > 0x39) return undefined;
      v = v * 10 + (c - 0x30);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 5 || ids.length === 2) return undefined;
    if (v > (ids.length === 1 ? MAX_INSTANCE_ID : MAX_ID)) return undefined;
    ids.push(v);
    if (i >= end) return ids;
    i++; // the '/'
  }
}

/**
 * Parses a Register / Update payload: `</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</3/0>,</3303/0>,</3303/1>`,
 * possibly under an alternate root path (`</lwm2m>;rt="oma.lwm2m",</lwm2m/3/0>`). Core 1.1 section 6.2.1.1 / 1.2
 * section 6.2.1: the root link is the one with `rt="oma.lwm2m"`; without it the root is `/`.
 */
export function parseRegistrationLinks(input: string | Buffer): RegistrationLinks {
  const links = parseLinks(input);
  let rootLink = links.find((l) => hasRt(l, 'oma.lwm2m'));
  if (rootLink === undefined) rootLink = links.find((l) => l.uri === '/' || l.uri === '');
  const rootPath = rootLink === undefined ? '/' : normalizeRoot(rootLink.uri);
  const result: RegistrationLinks = { rootPath, objects: [], others: [] };
  if (rootLink !== undefined && rootLink.params.ct !== undefined) result.ct = parseCt(rootLink.params.ct, `<${rootLink.uri}>`);
  const byId = new Map<number, RegisteredObject>();
  for (const l of links) {
    if (l === rootLink) continue;
    const ids = objectIds(l.uri, rootPath);
    if (ids === undefined) { result.others.push(l); continue; }
    let o = byId.get(ids[0]);
    if (o === undefined) {
      o = { objectId: ids[0], instances: [] };
      byId.set(ids[0], o);
      result.objects.push(o);
    }
    const ver = l.params.ver;
    if (typeof ver === 'string' && o.version === undefined) {
      if (!/^\d{1,3}\.\d{1,3}$/.test(ver)) throw new DecodeError(FORMAT, `<${l.uri}>: invalid object version "${ver}"`);
      o.version = ver;
    }
    if (ids.length === 2 && !o.instances.includes(ids[1])) o.instances.push(ids[1]);
  }
  return result;
}

/** Formats a registration payload (the client side of {@link parseRegistrationLinks}). */
export function formatRegistrationLinks(reg: { rootPath?: string; ct?: readonly number[]; objects: readonly RegisteredObject[] }): string {
  const root = normalizeRoot(reg.rootPath ?? '/');
  const prefix = root === '/' ? '' : root;
  const links: Link[] = [];
  if (root !== '/' || (reg.ct !== undefined && reg.ct.length > 0)) {
    const params: Record<string, string | true> = { rt: 'oma.lwm2m' };
    if (reg.ct !== undefined && reg.ct.length > 0) params.ct = reg.ct.join(' ');
    links.push({ uri: root, params });
  }
  for (const o of reg.objects) {
    const withVer = o.version !== undefined && o.version !== '1.0';
    if (o.instances.length === 0 || withVer) {
      links.push({ uri: `${prefix}/${o.objectId}`, params: withVer ? { ver: o.version as string } : {} });
    }
    for (const i of o.instances) links.push({ uri: `${prefix}/${o.objectId}/${i}`, params: {} });
  }
  return formatLinks(links);
}

// ---------------------------------------------------------------------------------------------------------------
// Discover answers

/**
 * Attributes of a Discover (and Bootstrap-Discover) answer. Notification attributes (Core 1.1 section 5.1.2 / 1.2
 * section 5.1.2): pmin, pmax, gt, lt, st, epmin, epmax, and 1.2's edge, con, hqmax; `dim` the number of resource
 * instances; `ver` the object version; `ssid`, `uri` and `lwm2m` from Bootstrap-Discover. Others are kept as written.
 */
export interface LinkAttributes {
  pmin?: number;
  pmax?: number;
  gt?: number;
  lt?: number;
  st?: number;
  epmin?: number;
  epmax?: number;
  dim?: number;
  edge?: number;
  con?: number;
  hqmax?: number;
  ssid?: number;
  ver?: string;
  lwm2m?: string;
  uri?: string;
  [other: string]: number | string | true | undefined;
}

export interface DiscoverEntry {
  path: Lwm2mPath;
  attributes: LinkAttributes;
}

const NUMERIC_ATTRIBUTES = new Set(['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax', 'dim', 'edge', 'con', 'hqmax', 'ssid']);
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$/;

/**
 * Parses a Discover answer: `</3/0>;pmin=10,</3/0/1>,</3/0/7>;dim=8` into paths and typed attributes. Links must be
 * LwM2M paths (under `rootPath` when the client uses an alternate root path).
 */
export function parseDiscover(input: string | Buffer, opts: { rootPath?: string } = {}): DiscoverEntry[] {
  const root = normalizeRoot(opts.rootPath ?? '/');
  return parseLinks(input).map((l) => {
    let uri = l.uri;
    if (root !== '/') {
      if (uri === root) uri = '/';
      else if (uri.startsWith(root + '/')) uri = uri.slice(root.length);
      else throw new DecodeError(FORMAT, `<${l.uri}> is not under the root path ${root}`);
    }
    let path: Lwm2mPath;
    try {
      path = Lwm2mPath.parse(uri);
    } catch (e) {
      throw new DecodeError(FORMAT, `<${l.uri}> is not an LwM2M path`, { cause: e });
    }
    const attributes: LinkAttributes = {};
    for (const [name, value] of Object.entries(l.params)) {
      let v: number | string | true = value;
      if (NUMERIC_ATTRIBUTES.has(name)) {
        if (value === true || !NUMBER_RE.test(value)) {
          throw new DecodeError(FORMAT, `<${l.uri}>: attribute ${name} must be a number, got ${JSON.stringify(value)}`);
        }
        v = Number(value);
      }
      Object.defineProperty(attributes, name, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return { path, attributes };
  });
}

/** Formats a Discover answer (the client side of {@link parseDiscover}). */
export function formatDiscover(entries: readonly DiscoverEntry[], opts: { rootPath?: string } = {}): string {
  const root = normalizeRoot(opts.rootPath ?? '/');
  const prefix = root === '/' ? '' : root;
  return formatLinks(entries.map((e) => {
    const params: Record<string, string | true> = {};
    for (const [name, value] of Object.entries(e.attributes)) {
      if (value === undefined) continue;
      if (typeof value === 'number' && !Number.isFinite(value)) throw new EncodeError(FORMAT, `${e.path}: attribute ${name} is not finite`);
      setParam(params, name, value === true ? true : String(value));
    }
    const p = e.path.toString();
    return { uri: p === '/' ? (prefix || '/') : prefix + p, params };
  }));
}
