import { Lwm2mPath } from '../../model/path';
import { InvalidArgumentError } from '../errors';
import { Lwm2mVersion } from '../registration';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';

/**
 * Notification attributes (Core 1.1 5.1.2, Core 1.2 5.1.2): a number sets an attribute, `null` removes it (sent as the
 * bare name, Core 1.1 5.4.4 "?pmin" with no value), undefined leaves it alone.
 * `epmin` and `epmax` exist from LwM2M 1.1, `edge`, `con` and `hqmax` from 1.2.
 */
export interface NotificationAttributes {
  pmin?: number | null;
  pmax?: number | null;
  gt?: number | null;
  lt?: number | null;
  st?: number | null;
  epmin?: number | null;
  epmax?: number | null;
  edge?: number | null;
  con?: number | null;
  hqmax?: number | null;
}

const INTEGER_ATTRS = new Set(['pmin', 'pmax', 'epmin', 'epmax', 'edge', 'con', 'hqmax']);
const V12_ATTRS = new Set(['edge', 'con', 'hqmax']);
const V11_ATTRS = new Set(['epmin', 'epmax']);
const ALL_ATTRS = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax', 'edge', 'con', 'hqmax'];

function formatNumber(n: number): string {
  // Plain decimal, no exponent (Core: attribute values are decimal numbers).
  if (Number.isInteger(n)) return n.toFixed(0);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** Builds the Uri-Query of a Write-Attributes. */
export function attributesQuery(what: string, attrs: NotificationAttributes, version: Lwm2mVersion): string[] {
  if (typeof attrs !== 'object' || attrs === null) throw new InvalidArgumentError(what, 'attributes must be an object');
  const query: string[] = [];
  for (const key of Object.keys(attrs)) {
    if (!ALL_ATTRS.includes(key)) throw new InvalidArgumentError(what, `unknown notification attribute "${key}" (known: ${ALL_ATTRS.join(', ')})`);
  }
  for (const key of ALL_ATTRS) {
    const v = (attrs as Record<string, number | null | undefined>)[key];
    if (v === undefined) continue;
    if (V12_ATTRS.has(key) && version !== '1.2') throw new InvalidArgumentError(what, `attribute ${key} needs LwM2M 1.2 (device is ${version})`);
    if (V11_ATTRS.has(key) && version === '1.0') throw new InvalidArgumentError(what, `attribute ${key} needs LwM2M 1.1 (device is 1.0)`);
    if (v === null) {
      query.push(key);
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgumentError(what, `attribute ${key} must be a finite number or null`);
    if (INTEGER_ATTRS.has(key) && (!Number.isInteger(v) || v < 0)) throw new InvalidArgumentError(what, `attribute ${key} must be a non-negative integer`);
    if (key === 'st' && v < 0) throw new InvalidArgumentError(what, 'attribute st must not be negative');
    if ((key === 'edge' || key === 'con') && v > 1) throw new InvalidArgumentError(what, `attribute ${key} must be 0 or 1`);
    query.push(`${key}=${formatNumber(v)}`);
  }
  if (query.length === 0) throw new InvalidArgumentError(what, 'no attribute to write');
  // Core 1.1 5.1.2: pmax must not be below pmin, epmax not below epmin; lt < gt and lt + 2*st < gt.
  const n = (k: string): number | undefined => {
    const v = (attrs as Record<string, number | null | undefined>)[k];
    return typeof v === 'number' ? v : undefined;
  };
  const pmin = n('pmin'), pmax = n('pmax'), epmin = n('epmin'), epmax = n('epmax'), gt = n('gt'), lt = n('lt'), st = n('st');
  if (pmin !== undefined && pmax !== undefined && pmax < pmin) throw new InvalidArgumentError(what, `pmax (${pmax}) is below pmin (${pmin})`);
  if (epmin !== undefined && epmax !== undefined && epmax < epmin) throw new InvalidArgumentError(what, `epmax (${epmax}) is below epmin (${epmin})`);
  if (gt !== undefined && lt !== undefined) {
    if (lt >= gt) throw new InvalidArgumentError(what, `lt (${lt}) must be below gt (${gt})`);
    if (st !== undefined && lt + 2 * st >= gt) throw new InvalidArgumentError(what, `lt + 2*st (${lt + 2 * st}) must be below gt (${gt})`);
  }
  return query;
}

export interface WriteAttributesResult {
  code: string;
}

/** Write-Attributes (Core 1.1 section 6.3, Device Management and Service Enablement interface): PUT with the attributes in Uri-Query and no payload; 2.04 Changed. */
export async function writeAttributes(ctx: RequestContext, path: Lwm2mPath, attrs: NotificationAttributes, opts: OperationOptions = {}): Promise<WriteAttributesResult> {
  const what = describe(ctx.registration, path);
  if (path.isRoot()) throw new InvalidArgumentError(what, 'Write-Attributes targets an object, an instance or a resource');
  const query = attributesQuery(what, attrs, ctx.registration.version);
  const res = await ctx.send({ method: 'PUT', path: segments(path), query, timeoutMs: opts.timeoutMs }, what);
  expectCode(res, what, ['2.04']);
  return { code: res.code };
}
