import { ReceivedResponse } from '../../coap/types';
import { recordsToTree, TreeNode } from '../../content/tree';
import { Lwm2mRecord, Lwm2mValue } from '../../content/values';
import { Lwm2mPath } from '../../model/path';
import { ObserveRejectedError } from '../errors';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';
import { candidateFormats, decodeAnswer, readKindOf, withFormats } from './negotiate';

/** The first answer of an Observe / Observe-Composite. */
export interface ObserveAnswer {
  value: TreeNode | { [path: string]: Lwm2mValue } | undefined;
  records: Lwm2mRecord[];
  /** Content format of the answer (notifications usually keep it). */
  format: number;
  /** Accept that was sent (and, for Observe-Composite, the request payload's format). */
  asked: number;
  code: string;
  /** The paths, parsed. */
  paths: Lwm2mPath[];
}

export function checkEstablished(res: ReceivedResponse, what: string): void {
  expectCode(res, what, ['2.05']);
  // RFC 7641 3.2: an answer without an Observe option means the device did not register us as an observer.
  if (res.observe === undefined) throw new ObserveRejectedError(what, res.code);
}

/**
 * Observe (Core 1.1 section 6.4, Information Reporting interface): GET with Observe 0 and Accept, with our token; `onNotification` receives the later
 * notifications the transport routes for that token.
 */
export async function observe(
  ctx: RequestContext, path: Lwm2mPath, token: Buffer, onNotification: (res: ReceivedResponse) => void, opts: OperationOptions = {},
): Promise<ObserveAnswer> {
  const what = describe(ctx.registration, path);
  const { kind, resourceType } = readKindOf(ctx.registry, path);
  const candidates = candidateFormats(ctx.registration, kind, resourceType, opts.format, what, ctx.preferredFormat);
  const { res, format: asked } = await withFormats(candidates, (accept) =>
    ctx.send({ method: 'GET', path: segments(path), accept, observe: 0, token, timeoutMs: opts.timeoutMs }, what, { onNotification }),
  { retryServerErrorFirst: kind === 'unknown' && opts.format === undefined });
  checkEstablished(res, what);
  const { records, format } = decodeAnswer(ctx, res, path, asked, what);
  return { value: recordsToTree(path, records), records, format, asked, code: res.code, paths: [path] };
}
