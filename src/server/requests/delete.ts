import { Lwm2mPath } from '../../model/path';
import { InvalidArgumentError } from '../errors';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';

export interface DeleteResult {
  code: string;
}

/** Delete (Core 1.1 section 6.3, Device Management and Service Enablement interface): DELETE on an object instance (1.2 also resource instances); 2.02 Deleted. */
export async function deleteInstance(ctx: RequestContext, path: Lwm2mPath, opts: OperationOptions = {}): Promise<DeleteResult> {
  const what = describe(ctx.registration, path);
  if (path.length < 2) throw new InvalidArgumentError(what, 'Delete targets an object instance (/O/I)');
  const res = await ctx.send({ method: 'DELETE', path: segments(path), timeoutMs: opts.timeoutMs }, what);
  expectCode(res, what, ['2.02']);
  return { code: res.code };
}
