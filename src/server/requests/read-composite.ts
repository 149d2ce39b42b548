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
}

/**
 * Read-Composite (Core 1.1 section 6.3, Device Management and Service Enablement interface): FETCH on the root with the paths in a SenML JSON/CBOR payload; the answer holds
 * the values of all of them (Content-Format = Accept).
 */
export async function readComposite(ctx: RequestContext, pathsIn: ReadonlyArray<string | Lwm2mPath>, opts: OperationOptions = {}): Promise<CompositeReadResult> {
  const paths = compositePaths(ctx.registration.endpoint, pathsIn);
  const what = compositeWhat(ctx.registration.endpoint, paths);
  requireComposite(ctx, what, 'Read-Composite');
  const candidates = candidateFormats(ctx.registration, 'composite', undefined, opts.format, what);
  const { res, format: asked } = await withFormats(candidates, (format) =>
    ctx.send({ method: 'FETCH', path: [], contentFormat: format, accept: format, payload: pathsPayload(ctx, paths, format), timeoutMs: opts.timeoutMs }, what));
  expectCode(res, what, ['2.05']);
  const { records, format } = decodeAnswer(ctx, res, Lwm2mPath.ROOT, asked, what);
  return { value: recordsToPathMap(records), records, format, code: res.code };
}
