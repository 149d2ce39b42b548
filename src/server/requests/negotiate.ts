import { Lwm2mError, DecodeError } from '../../errors';
import { ReceivedResponse } from '../../coap/types';
import { fallbackFormats, RequestKind } from '../../content/choose';
import { decode } from '../../content/index';
import { Lwm2mRecord } from '../../content/values';
import { resourceDefOf } from '../../content/typing';
import { Lwm2mPath } from '../../model/path';
import { ObjectRegistry, ResourceType } from '../../model/types';
import { Registration } from '../registration';
import { isFormatRefusal, RequestContext } from './context';

/** The kind of payload a path carries: one value, or several (instance, object, multiple resource). */
export function kindOf(registry: ObjectRegistry, path: Lwm2mPath): { kind: RequestKind; resourceType?: ResourceType } {
  if (path.isResourceInstance()) return { kind: 'single', resourceType: resourceDefOf(registry, path)?.type };
  if (path.isResource()) {
    const def = resourceDefOf(registry, path);
    return def?.multiple ? { kind: 'multi', resourceType: def.type } : { kind: 'single', resourceType: def?.type };
  }
  return { kind: 'multi' };
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
 * (content/choose.ts: mandatory formats of its version and its `ct=` list first).
 */
export function candidateFormats(reg: Registration, kind: RequestKind, resourceType: ResourceType | undefined, explicit: number | undefined, what: string): readonly number[] {
  if (explicit !== undefined) return [explicit];
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

/**
 * Sends with each candidate format until the device accepts one: a 4.06 Not Acceptable (Accept refused, RFC 7252
 * 5.10.4) or 4.15 Unsupported Content-Format (payload format refused, 5.10.3) moves on to the next candidate. Returns the
 * last answer and the format it was for.
 */
export async function withFormats(
  candidates: readonly number[],
  attempt: (format: number) => Promise<ReceivedResponse>,
): Promise<{ res: ReceivedResponse; format: number }> {
  let last: { res: ReceivedResponse; format: number } | undefined;
  for (const format of candidates) {
    const res = await attempt(format);
    last = { res, format };
    if (!isFormatRefusal(res)) break;
  }
  return last!;
}

/** Decodes an answer's payload; without a Content-Format the format asked for is assumed. */
export function decodeAnswer(ctx: RequestContext, res: ReceivedResponse, path: Lwm2mPath, asked: number, what: string): { records: Lwm2mRecord[]; format: number } {
  const format = res.contentFormat ?? asked;
  try {
    return { records: decode(format, res.payload, { registry: ctx.registry, path }), format };
  } catch (err) {
    if (err instanceof Lwm2mError && err.code !== 'UNSUPPORTED_FORMAT') {
      const reason = err.message.replace(/^cannot decode content format \d+: /, '');
      throw new DecodeError(format, `${what}: ${reason}`, { cause: err });
    }
    throw err;
  }
}
