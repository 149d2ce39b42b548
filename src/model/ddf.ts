/**
 * Loader for LwM2M object definition files (DDF): the XML of the OMA schemas LWM2M.xsd (1.0) and LWM2M-v1_1.xsd (adds
 * the `Unsigned Integer` and `Corelnk` types), as published in the OMNA LwM2M registry.
 *
 * Lenient where real files are sloppy (surrounding whitespace, letter case of element names and values, doubled spaces
 * in names, missing optional elements); strict where the data would be unusable (malformed XML, no or bad ObjectID,
 * bad or duplicate resource ID, unknown type or operations). Every problem is a {@link ModelError} naming the source.
 */
import { promises as fsp, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ModelError } from '../errors';
import { MAX_ID } from './path';
import { ObjectDef, Operations, ResourceDef, ResourceType } from './types';
import { objectUrn } from './urn';

/** Files larger than this are refused (the largest registry DDF is about 100 kB). */
export const MAX_DDF_BYTES = 4 * 1024 * 1024;

/** A DDF file that could not be loaded. */
export interface DdfFileError {
  file: string;
  /** `error.message`: names the file and the problem. */
  message: string;
  error: ModelError;
}

/** A well-formed XML file of the registry that is not an object definition (the DDF.xml index, reusable resources, units). */
export interface DdfSkippedFile {
  file: string;
  reason: string;
}

export interface DdfFolderResult {
  /** Definitions of every file that loaded, in file name order. */
  objects: ObjectDef[];
  /** Files that could not be loaded, each with its error (the error message names the file). */
  errors: DdfFileError[];
  /** XML files that are well-formed but hold no object definition. */
  skipped: DdfSkippedFile[];
}

export interface DdfFolderOptions {
  /** Throw the first file's error instead of collecting errors (default false: load what loads, report the rest). */
  strict?: boolean;
}

/** Thrown internally for a well-formed XML file that is not an object definition; a ModelError for callers. */
export class NotObjectDefinitionError extends ModelError {
  constructor(source: string, readonly reason: string) {
    super(source, `not an LwM2M object definition: ${reason}`);
  }
}

// Maps, not object literals: a lookup of "__proto__" or "constructor" must find nothing.
const TYPES = new Map<string, ResourceType>(Object.entries({
  string: 'string',
  integer: 'integer',
  int: 'integer',
  'unsigned integer': 'unsigned',
  unsignedinteger: 'unsigned',
  unsigned: 'unsigned',
  float: 'float',
  boolean: 'boolean',
  bool: 'boolean',
  opaque: 'opaque',
  time: 'time',
  objlnk: 'objlnk',
  'object link': 'objlnk',
  objectlink: 'objlnk',
  corelnk: 'corelnk',
  'core link': 'corelnk',
  none: 'none',
  '': 'none',
} satisfies Record<string, ResourceType>));

const OPERATIONS = new Map<string, Operations>(Object.entries({
  r: 'R',
  w: 'W',
  rw: 'RW',
  wr: 'RW',
  'r/w': 'RW',
  e: 'E',
  '': '',
  none: '',
  '-': '',
} satisfies Record<string, Operations>));

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Keep every value as text: "1.0" must stay "1.0", not become the number 1.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
  cdataPropName: false,
  processEntities: true,
  htmlEntities: false,
});

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The child `name` of `node`, ignoring letter case (real files are not always consistent). */
function child(node: Node, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(node, name)) return node[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(node)) if (key.toLowerCase() === lower) return node[key];
  return undefined;
}

/** The text of an element: a string, the `#text` of an element with attributes, the first of repeated elements. */
function text(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.length > 0 ? text(v[0]) : undefined;
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isNode(v)) {
    const t = v['#text'];
    return typeof t === 'string' ? t.trim() : typeof t === 'number' ? String(t) : '';
  }
  return undefined;
}

function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** Collapses runs of whitespace (names such as "LWM2M  Server URI" exist in the registry). */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function parseId(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const t = raw.trim();
  if (!/^\d{1,5}$/.test(t)) return undefined;
  const n = Number(t);
  return n <= MAX_ID ? n : undefined;
}

/** `1.1` stays `1.1`; `1` becomes `1.0`; anything else is refused. */
function parseVersion(raw: string | undefined, source: string, what: string): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const t = raw.trim();
  const m = /^(\d{1,4})(?:\.(\d{1,4}))?$/.exec(t);
  if (!m) throw new ModelError(source, `${what} "${clip(t)}" is not a version like 1.0`);
  return `${Number(m[1])}.${Number(m[2] ?? '0')}`;
}

function clip(s: string, max = 60): string {
  return s.length > max ? s.slice(0, max) + '…' : s;
}

function enumValue(raw: string | undefined, yes: string, no: string, source: string, what: string): boolean {
  if (raw === undefined || raw === '') return false;
  const v = raw.trim().toLowerCase();
  if (v === yes.toLowerCase()) return true;
  if (v === no.toLowerCase()) return false;
  throw new ModelError(source, `${what} is "${clip(raw)}", expected ${yes} or ${no}`);
}

function parseResource(item: unknown, index: number, objectId: number, source: string): ResourceDef {
  const where = `object ${objectId}, resource #${index + 1}`;
  if (!isNode(item)) throw new ModelError(source, `${where}: <Item> has no content`);
  const rawId = text(child(item, '@_ID'));
  const id = parseId(rawId);
  if (id === undefined) {
    throw new ModelError(source, rawId === undefined
      ? `${where}: <Item> has no ID attribute`
      : `${where}: ID "${clip(rawId)}" is not an integer from 0 to ${MAX_ID}`);
  }
  const at = `object ${objectId}, resource ${id}`;
  const rawType = text(child(item, 'Type')) ?? '';
  const type = TYPES.get(oneLine(rawType).toLowerCase());
  if (type === undefined) throw new ModelError(source, `${at}: unknown type "${clip(rawType)}"`);
  const rawOps = text(child(item, 'Operations')) ?? '';
  const operations = OPERATIONS.get(rawOps.replace(/\s+/g, '').toLowerCase());
  if (operations === undefined) throw new ModelError(source, `${at}: unknown operations "${clip(rawOps)}"`);
  const name = oneLine(text(child(item, 'Name')) ?? '') || `Resource ${id}`;
  const def: ResourceDef = {
    id,
    name,
    operations,
    multiple: enumValue(text(child(item, 'MultipleInstances')), 'Multiple', 'Single', source, `${at}: MultipleInstances`),
    mandatory: enumValue(text(child(item, 'Mandatory')), 'Mandatory', 'Optional', source, `${at}: Mandatory`),
    type,
  };
  const range = text(child(item, 'RangeEnumeration'));
  if (range) def.range = oneLine(range);
  const units = text(child(item, 'Units'));
  if (units) def.units = oneLine(units);
  const description = text(child(item, 'Description'));
  if (description) def.description = description;
  return def;
}

function parseObject(node: unknown, index: number, source: string): ObjectDef {
  const where = `object #${index + 1}`;
  if (!isNode(node)) throw new ModelError(source, `${where}: <Object> has no content`);
  const rawId = text(child(node, 'ObjectID'));
  if (rawId === undefined || rawId === '') throw new ModelError(source, `${where}: missing <ObjectID>`);
  const id = parseId(rawId);
  if (id === undefined) throw new ModelError(source, `${where}: ObjectID "${clip(rawId)}" is not an integer from 0 to ${MAX_ID}`);
  const at = `object ${id}`;
  const version = parseVersion(text(child(node, 'ObjectVersion')), source, `${at}: ObjectVersion`) ?? '1.0';
  const lwm2mVersion = parseVersion(text(child(node, 'LWM2MVersion')), source, `${at}: LWM2MVersion`);
  const urn = oneLine(text(child(node, 'ObjectURN')) ?? '') || objectUrn(id, version);
  const resources: Record<number, ResourceDef> = {};
  const container = child(node, 'Resources');
  if (container !== undefined && container !== '' && !isNode(container)) {
    throw new ModelError(source, `${at}: <Resources> must hold <Item> elements`);
  }
  const items = isNode(container) ? asArray(child(container, 'Item')) : [];
  items.forEach((item, i) => {
    const r = parseResource(item, i, id, source);
    if (resources[r.id] !== undefined) throw new ModelError(source, `${at}: resource ID ${r.id} is defined twice`);
    resources[r.id] = r;
  });
  const def: ObjectDef = {
    id,
    name: oneLine(text(child(node, 'Name')) ?? '') || `Object ${id}`,
    version,
    multiple: enumValue(text(child(node, 'MultipleInstances')), 'Multiple', 'Single', source, `${at}: MultipleInstances`),
    mandatory: enumValue(text(child(node, 'Mandatory')), 'Mandatory', 'Optional', source, `${at}: Mandatory`),
    urn,
    resources,
  };
  if (lwm2mVersion !== undefined) def.lwm2mVersion = lwm2mVersion;
  const d1 = text(child(node, 'Description1')) ?? text(child(node, 'Description'));
  const d2 = text(child(node, 'Description2'));
  const description = [d1, d2].filter((d) => d).join('\n\n');
  if (description) def.description = description;
  return def;
}

/** The root element's name and content, refusing documents without exactly one root. */
function rootOf(doc: Node, source: string): [string, unknown] {
  const keys = Object.keys(doc);
  if (keys.length === 0) throw new ModelError(source, 'no XML element');
  if (keys.length > 1) throw new ModelError(source, `several root elements (${keys.slice(0, 3).join(', ')})`);
  return [keys[0], doc[keys[0]]];
}

/**
 * Parses a DDF document into object definitions (a file may hold several `<Object>`).
 * @param xml the document (a Buffer is read as UTF-8)
 * @param source names the document in errors, e.g. the file path
 * @throws {ModelError} for malformed XML (with line and column), a document that is not an object definition
 *   ({@link NotObjectDefinitionError}), or unusable content
 */
export function parseDdf(xml: string | Buffer, source = '<string>'): ObjectDef[] {
  if (Buffer.isBuffer(xml)) {
    if (xml.length > MAX_DDF_BYTES) throw new ModelError(source, `larger than ${MAX_DDF_BYTES} bytes`);
    xml = xml.toString('utf8');
  }
  if (typeof xml !== 'string') throw new ModelError(source, 'DDF content must be a string or a Buffer');
  if (xml.length > MAX_DDF_BYTES) throw new ModelError(source, `larger than ${MAX_DDF_BYTES} characters`);
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  if (xml.trim() === '') throw new ModelError(source, 'empty document');
  // DDFs never declare a DOCTYPE; refusing it rules out entity expansion tricks ("billion laughs") altogether.
  if (/<!DOCTYPE/i.test(xml)) throw new ModelError(source, 'a DOCTYPE declaration is not allowed in a DDF');
  let valid: ReturnType<typeof XMLValidator.validate>;
  try {
    valid = XMLValidator.validate(xml);
  } catch (err) {
    throw new ModelError(source, `malformed XML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new ModelError(source, `malformed XML at line ${line}, column ${col}: ${msg}`);
  }
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new ModelError(source, `malformed XML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!isNode(doc)) throw new ModelError(source, 'no XML element');
  const [rootName, root] = rootOf(doc, source);
  if (rootName.toLowerCase() !== 'lwm2m') {
    const lower = rootName.toLowerCase();
    if (lower === 'ddflist') throw new NotObjectDefinitionError(source, 'a registry index (<DDFList>)');
    if (lower === 'units') throw new NotObjectDefinitionError(source, 'a units list (<units>)');
    throw new ModelError(source, `root element is <${clip(rootName)}>, expected <LWM2M>`);
  }
  const objects = isNode(root) ? asArray(child(root, 'Object')) : [];
  if (objects.length === 0) throw new ModelError(source, '<LWM2M> holds no <Object>');
  // The registry's Common.xml uses the same root for reusable resource definitions (ObjectType="CommonResources").
  if (objects.every((o) => isNode(o) && text(child(o, '@_ObjectType'))?.toLowerCase() === 'commonresources')) {
    throw new NotObjectDefinitionError(source, 'reusable resource definitions (ObjectType="CommonResources")');
  }
  return objects.map((o, i) => parseObject(o, i, source));
}

function checkSize(file: string, size: number): void {
  if (size > MAX_DDF_BYTES) throw new ModelError(file, `larger than ${MAX_DDF_BYTES} bytes`);
}

function fsError(file: string, err: unknown, what: string): ModelError {
  if (err instanceof ModelError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new ModelError(file, `cannot ${what}${code ? ` (${code})` : ''}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** Reads and parses one DDF file (asynchronous {@link loadDdfFile}). @throws {ModelError} naming the file */
export async function loadDdfFileAsync(file: string): Promise<ObjectDef[]> {
  let buf: Buffer;
  try {
    checkSize(file, (await fsp.stat(file)).size);
    buf = await fsp.readFile(file);
  } catch (err) {
    throw fsError(file, err, 'read file');
  }
  return parseDdf(buf, file);
}

/** Reads and parses one DDF file. Synchronous, for start-up code; see {@link loadDdfFileAsync}. @throws {ModelError} naming the file */
export function loadDdfFile(file: string): ObjectDef[] {
  let buf: Buffer;
  try {
    checkSize(file, statSync(file).size);
    buf = readFileSync(file);
  } catch (err) {
    throw fsError(file, err, 'read file');
  }
  return parseDdf(buf, file);
}

function xmlFiles(names: string[], dir: string): string[] {
  return names.filter((n) => n.toLowerCase().endsWith('.xml')).sort(compareFileNames).map((n) => path.join(dir, n));
}

/** Natural order: 2.xml before 10.xml. */
function compareFileNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function collect(result: DdfFolderResult, file: string, load: () => ObjectDef[], strict: boolean): void {
  try {
    result.objects.push(...load());
  } catch (err) {
    if (err instanceof NotObjectDefinitionError) {
      result.skipped.push({ file, reason: err.reason });
      return;
    }
    const error = err instanceof ModelError ? err : fsError(file, err, 'load');
    if (strict) throw error;
    result.errors.push({ file, message: error.message, error });
  }
}

/** Asynchronous {@link loadDdfFolder}: same result, reads files with fs.promises. */
export async function loadDdfFolderAsync(dir: string, opts: DdfFolderOptions = {}): Promise<DdfFolderResult> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    throw fsError(dir, err, 'read folder');
  }
  const result: DdfFolderResult = { objects: [], errors: [], skipped: [] };
  for (const file of xmlFiles(names, dir)) {
    let content: Buffer | undefined;
    try {
      checkSize(file, (await fsp.stat(file)).size);
      content = await fsp.readFile(file);
    } catch (err) {
      collect(result, file, () => { throw fsError(file, err, 'read file'); }, opts.strict === true);
      continue;
    }
    const buf = content;
    collect(result, file, () => parseDdf(buf, file), opts.strict === true);
  }
  return result;
}

/**
 * Loads every `*.xml` file of a folder (not recursive). Synchronous, for start-up code (a Node-RED config node
 * constructor); see {@link loadDdfFolderAsync}. One bad file does not stop the others: it is reported in `errors` by
 * name (or thrown, with `strict`). Well-formed files that are not object definitions (the registry's DDF.xml index,
 * Common.xml, units lists) are listed in `skipped`.
 * @throws {ModelError} when the folder cannot be read, or with `strict` for the first bad file
 */
export function loadDdfFolder(dir: string, opts: DdfFolderOptions = {}): DdfFolderResult {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw fsError(dir, err, 'read folder');
  }
  const result: DdfFolderResult = { objects: [], errors: [], skipped: [] };
  for (const file of xmlFiles(names, dir)) collect(result, file, () => loadDdfFile(file), opts.strict === true);
  return result;
}
