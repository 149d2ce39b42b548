import { DecodeError } from '../../errors';
import { UndecodedRecord } from '../../content/codec';
import { Lwm2mRecord, Lwm2mValue } from '../../content/values';
import { recordsToPathMap } from '../../content/tree';
import { Lwm2mPath } from '../../model/path';
import { expectCode, OperationOptions, RequestContext } from './context';
import { candidateFormats, decodeAnswer, withFormats } from './negotiate';
import { compositePaths, compositeWhat, pathsPayload, requireComposite } from './composite-common';

export interface CompositeReadResult {
  /** `{ '/3/0/0': value, '/1/0/1': value }` */
  value: { [path: string]: Lwm2mValue };
  records: Lwm2mRecord[];
  format: number;
  code: string;
  /** Records whose value could not be decoded, left out of `value` (as ReadResult.undecoded). Present only when some. */
  undecoded?: UndecodedRecord[];
}

/**
 * Read-Composite (Core 1.1 section 6.3, Device Management and Service Enablement interface): FETCH on the root with the paths in a SenML JSON/CBOR payload; the answer holds
 * the values of all of them (Content-Format = Accept).
 */
export async function readComposite(ctx: RequestContext, pathsIn: ReadonlyArray<string | Lwm2mPath>, opts: OperationOptions = {}): Promise<CompositeReadResult> {
  const paths = compositePaths(ctx.registration.endpoint, pathsIn);
  const what = compositeWhat(ctx.registration.endpoint, paths);
  requireComposite(ctx, what, 'Read-Composite');
  const candidates = candidateFormats(ctx.registration, 'composite', undefined, opts.format, what, ctx.preferredFormat);
  const { res, format: asked } = await withFormats(candidates, (format) =>
    ctx.send({ method: 'FETCH', path: [], contentFormat: format, accept: format, payload: pathsPayload(ctx, paths, format), timeoutMs: opts.timeoutMs }, what));
  expectCode(res, what, ['2.05']);
  // Lenient: one record that does not decode is reported, the others returned, unless it is one of the paths asked for.
  const undecoded: UndecodedRecord[] = [];
  const { records, format } = decodeAnswer(ctx, res, Lwm2mPath.ROOT, asked, what, undecoded);
  const own = undecoded.find((u) => paths.some((p) => p.equals(u.path)));
  if (own !== undefined) throw new DecodeError(format, `${what}: ${own.reason}`);
  const result: CompositeReadResult = { value: recordsToPathMap(records), records, format, code: res.code };
  if (undecoded.length > 0) result.undecoded = undecoded;
  return result;
}
