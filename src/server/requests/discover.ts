import { DecodeError } from '../../errors';
import { ContentFormat } from '../../content/formats';
import { DiscoverEntry, parseDiscover } from '../../content/link';
import { Lwm2mPath } from '../../model/path';
import { InvalidArgumentError } from '../errors';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';

export interface DiscoverResult {
  /** The links the device answered, as paths (relative to its root) with their attributes. */
  entries: DiscoverEntry[];
  code: string;
}

/** Discover (Core 1.1 section 6.3, Device Management and Service Enablement interface): GET with Accept: application/link-format (40) on an object, instance or resource. */
export async function discover(ctx: RequestContext, path: Lwm2mPath, opts: OperationOptions = {}): Promise<DiscoverResult> {
  const what = describe(ctx.registration, path);
  if (path.isRoot()) throw new InvalidArgumentError(what, 'Discover targets an object, an instance or a resource');
  const res = await ctx.send({ method: 'GET', path: segments(path), accept: ContentFormat.LINK, timeoutMs: opts.timeoutMs }, what);
  expectCode(res, what, ['2.05']);
  if (res.contentFormat !== undefined && res.contentFormat !== ContentFormat.LINK) {
    throw new DecodeError(res.contentFormat, `${what}: Discover answer is not application/link-format`);
  }
  try {
    return { entries: parseDiscover(res.payload, { rootPath: ctx.registration.rootPath }), code: res.code };
  } catch (err) {
    if (err instanceof DecodeError) throw new DecodeError(ContentFormat.LINK, `${what}: ${err.message}`, { cause: err });
    throw err;
  }
}
