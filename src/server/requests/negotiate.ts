import { Lwm2mError, DecodeError } from '../../errors';
import { ReceivedResponse } from '../../coap/types';
import { fallbackFormats, RequestKind } from '../../content/choose';
import { UndecodedRecord } from '../../content/codec';
import { ContentFormat } from '../../content/formats';
import { decode, getCodec, hasCodec } from '../../content/index';
import { Lwm2mRecord } from '../../content/values';
import { resourceDefOf } from '../../content/typing';
import { Lwm2mPath } from '../../model/path';
import { ObjectRegistry, ResourceType } from '../../model/types';
import { InvalidArgumentError } from '../errors';
import { Registration } from '../registration';
import { isFormatRefusal, RequestContext } from './context';

/**
 * The kind of payload a path carries: one value, or several (instance, object, multiple resource). A resource the
 * model does not know is `single` with `unknown: true`: it may be single or multiple-instance (reads ask with kind
 * `unknown`, content/choose.ts, so a structured format comes first).
 */
export function kindOf(registry: ObjectRegistry, path: Lwm2mPath): { kind: RequestKind; resourceType?: ResourceType; unknown?: boolean } {
  if (path.isResourceInstance()) return { kind: 'single', resourceType: resourceDefOf(registry, path)?.type };
  if (path.isResource()) {
    const def = resourceDefOf(registry, path);
    if (def === undefined) return { kind: 'single', unknown: true };
    return def.multiple ? { kind: 'multi', resourceType: def.type } : { kind: 'single', resourceType: def.type };
  }
  return { kind: 'multi' };
}

/** The request kind a Read / Observe of `path` negotiates with: `unknown` for a resource the model does not know. */
export function readKindOf(registry: ObjectRegistry, path: Lwm2mPath): { kind: RequestKind; resourceType?: ResourceType } {
  const k = kindOf(registry, path);
  return k.unknown ? { kind: 'unknown' } : k;
}

/**
 * Chooser lists by (version, ct, kind, resource type): a fleet has few distinct combinations, and the list is asked for
 * on every request. Bounded: cleared when full. The lists are frozen (shared by every caller).
 */
const CANDIDATES_MAX = 1024;
const candidatesCache = new Map<string, readonly number[]>();
/** Key text of a frozen (interned, registration.ts `internCt`) ct list, computed once per list. */
const ctKeys = new WeakMap<readonly number[], string>();

function ctKey(ct: readonly number[] | undefined): string {
  if (ct === undefined) return '-';
  if (!Object.isFrozen(ct)) return ct.join(' ');
  let k = ctKeys.get(ct);
  if (k === undefined) {
    k = ct.join(' ');
    ctKeys.set(ct, k);
  }
  return k;
}

/**
 * The formats to try for a request, in order: the one asked for, or the chooser's list for the device
 * (content/choose.ts: mandatory formats of its version and its `ct=` list first). A `preferred` format (the device's
 * preference set on the server, {@link FormatPreferences}) goes first when it can carry the request kind; the chooser's
 * list follows as fallback.
 */
export function candidateFormats(reg: Registration, kind: RequestKind, resourceType: ResourceType | undefined, explicit: number | undefined, what: string,
  preferred?: number): readonly number[] {
  if (explicit !== undefined) return [explicit];
  if (preferred !== undefined && canCarry(preferred, kind)) {
    const rest = candidateFormats(reg, kind, resourceType, undefined, what);
    return rest[0] === preferred ? rest : [preferred, ...rest.filter((f) => f !== preferred)];
  }
  const key = reg.version + '|' + kind + '|' + (resourceType ?? '') + '|' + ctKey(reg.ct);
  let list = candidatesCache.get(key);
  if (list === undefined) {
    list = Object.freeze(fallbackFormats({ version: reg.version, ct: reg.ct, kind, resourceType }));
    if (candidatesCache.size >= CANDIDATES_MAX) candidatesCache.clear();
    candidatesCache.set(key, list);
  }
  if (list.length === 0) {
    throw new Lwm2mError('NO_FORMAT', `${what}: no content format can carry a ${kind} request to an LwM2M ${reg.version} device`);
  }
  return list;
}

/** True when the codec for `format` can carry a request of `kind` (single-value formats carry one value only). */
export function canCarry(format: number, kind: RequestKind): boolean {
  if (!hasCodec(format)) return false;
  const c = getCodec(format);
  if (kind === 'composite') return format === ContentFormat.SENML_JSON || format === ContentFormat.SENML_CBOR;
  if (kind === 'multi') return !c.singleValue;
  return true;
}

/**
 * Per-endpoint preferred content formats (a server option and a run-time setting): some devices announce formats
 * they handle badly, e.g. LwM2M 1.0 devices that silently drop TLV requests but answer LwM2M JSON.
 */
export class FormatPreferences {
  private readonly byEndpoint = new Map<string, number>();

  constructor(initial?: Readonly<Record<string, number>>) {
    for (const [ep, f] of Object.entries(initial ?? {})) this.set(ep, f);
  }

  /** Sets (or with `undefined`, clears) the endpoint's preferred format; InvalidArgumentError for formats without a codec. */
  set(endpoint: string, format: number | undefined): void {
    if (typeof endpoint !== 'string' || endpoint === '') throw new InvalidArgumentError('preferred format', 'give an endpoint name');
    if (format === undefined) {
      this.byEndpoint.delete(endpoint);
      return;
    }
    if (!Number.isInteger(format) || !hasCodec(format) || format === ContentFormat.LINK) {
      throw new InvalidArgumentError(`${endpoint} preferred format`, `${String(format)} is not a content format we encode and decode`);
    }
    this.byEndpoint.set(endpoint, format);
  }

  get(endpoint: string): number | undefined {
    return this.byEndpoint.get(endpoint);
  }

  /** Every preference, endpoint -> format. */
  entries(): Record<string, number> {
    return Object.fromEntries(this.byEndpoint);
  }
}

/** Options of {@link withFormats}. */
export interface WithFormatsOptions {
  /**
   * Also move on after a 5.00 Internal Server Error answering the first attempt: for a guess (a Read of a resource the
   * model does not know asks for a structured format first) a client that cannot produce that format for the resource
   * may answer 5.00 instead of 4.06.
   */
  retryServerErrorFirst?: boolean;
}

/**
 * Sends with each candidate format until the device accepts one: a 4.06 Not Acceptable (Accept refused, RFC 7252
 * 5.10.4) or 4.15 Unsupported Content-Format (payload format refused, 5.10.3) moves on to the next candidate, and with
 * `retryServerErrorFirst` so does a 5.00 answering the first attempt. Returns the last answer and the format it was for.
 */
export async function withFormats(
  candidates: readonly number[],
  attempt: (format: number) => Promise<ReceivedResponse>,
  opts: WithFormatsOptions = {},
): Promise<{ res: ReceivedResponse; format: number }> {
  let last: { res: ReceivedResponse; format: number } | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const format = candidates[i];
    const res = await attempt(format);
    last = { res, format };
    if (isFormatRefusal(res)) continue;
    if (i === 0 && opts.retryServerErrorFirst === true && res.code === '5.00') continue;
    break;
  }
  return last!;
}

/**
 * Decodes an answer's payload; without a Content-Format the format asked for is assumed. With `undecoded`, decoding is
 * lenient (CodecOptions.undecoded): records whose value does not decode are listed there and left out.
 */
export function decodeAnswer(ctx: RequestContext, res: ReceivedResponse, path: Lwm2mPath, asked: number, what: string,
  undecoded?: UndecodedRecord[]): { records: Lwm2mRecord[]; format: number } {
  const format = res.contentFormat ?? asked;
  try {
    return { records: decode(format, res.payload, { registry: ctx.registry, path, undecoded }), format };
  } catch (err) {
    if (err instanceof Lwm2mError && err.code !== 'UNSUPPORTED_FORMAT') {
      const reason = err.message.replace(/^cannot decode content format \d+: /, '');
      throw new DecodeError(format, `${what}: ${reason}`, { cause: err });
    }
    throw err;
  }
}
