import { Lwm2mRecord } from '../../content/values';
import { recordsToTree, TreeNode } from '../../content/tree';
import { Lwm2mPath } from '../../model/path';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';
import { candidateFormats, decodeAnswer, kindOf, withFormats } from './negotiate';

export interface ReadResult {
  /** The typed value: a resource's value, `{ [riid]: value }`, `{ [resourceId]: ... }`... (content/tree.ts). */
  value: TreeNode | undefined;
  /** The decoded records (absolute paths). */
  records: Lwm2mRecord[];
  /** Content format of the answer. */
  format: number;
  /** CoAP code of the answer (2.05). */
  code: string;
}

/**
 * Read (Core 1.1 section 6.3, Device Management and Service Enablement interface): GET with Accept. The Accept is chosen from the device's version and `ct=` list; a 4.06 Not
 * Acceptable is retried with the next format it may support.
 */
export async function read(ctx: RequestContext, path: Lwm2mPath, opts: OperationOptions = {}): Promise<ReadResult> {
  const what = describe(ctx.registration, path);
  const { kind, resourceType } = kindOf(ctx.registry, path);
  const candidates = candidateFormats(ctx.registration, kind, resourceType, opts.format, what);
  const { res, format: asked } = await withFormats(candidates, (accept) =>
    ctx.send({ method: 'GET', path: segments(path), accept, timeoutMs: opts.timeoutMs }, what));
  expectCode(res, what, ['2.05']);
  const { records, format } = decodeAnswer(ctx, res, path, asked, what);
  return { value: recordsToTree(path, records), records, format, code: res.code };
}
