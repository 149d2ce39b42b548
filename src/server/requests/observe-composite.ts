import { ReceivedResponse } from '../../coap/types';
import { recordsToPathMap } from '../../content/tree';
import { Lwm2mPath } from '../../model/path';
import { OperationOptions, RequestContext } from './context';
import { candidateFormats, decodeAnswer, withFormats } from './negotiate';
import { compositePaths, compositeWhat, pathsPayload, requireComposite } from './composite-common';
import { checkEstablished, ObserveAnswer } from './observe';

/** Observe-Composite (Core 1.1 section 6.4, Information Reporting interface): FETCH on the root with Observe 0 and the paths in a SenML payload. */
export async function observeComposite(
  ctx: RequestContext, pathsIn: ReadonlyArray<string | Lwm2mPath>, token: Buffer, onNotification: (res: ReceivedResponse) => void, opts: OperationOptions = {},
): Promise<ObserveAnswer> {
  const paths = compositePaths(ctx.registration.endpoint, pathsIn);
  const what = compositeWhat(ctx.registration.endpoint, paths);
  requireComposite(ctx, what, 'Observe-Composite');
  const candidates = candidateFormats(ctx.registration, 'composite', undefined, opts.format, what, ctx.preferredFormat);
  const { res, format: asked } = await withFormats(candidates, (format) =>
    ctx.send({ method: 'FETCH', path: [], contentFormat: format, accept: format, observe: 0, token, payload: pathsPayload(ctx, paths, format), timeoutMs: opts.timeoutMs }, what, { onNotification }));
  checkEstablished(res, what);
  const { records, format } = decodeAnswer(ctx, res, Lwm2mPath.ROOT, asked, what);
  return { value: recordsToPathMap(records), records, format, asked, code: res.code, paths };
}
