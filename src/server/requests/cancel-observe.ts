import { ContentFormat } from '../../content/formats';
import { Lwm2mPath } from '../../model/path';
import { Observation } from '../observation';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';
import { compositeWhat, pathsPayload } from './composite-common';

/**
 * Active cancel (Core 1.1 section 6.4, Cancel Observation; RFC 7641 3.6): the same request with Observe 1 and the same token. Resolves with the
 * answer's code (a device may answer with the current value).
 */
export async function cancelObserveActive(ctx: RequestContext, obs: Observation, opts: OperationOptions = {}): Promise<{ code: string }> {
  const token = Buffer.from(obs.token, 'hex');
  const paths = obs.paths.map((p) => Lwm2mPath.parse(p));
  if (obs.composite) {
    const what = compositeWhat(ctx.registration.endpoint, paths);
    const format = obs.requestFormat ?? obs.format ?? ContentFormat.SENML_CBOR;
    const res = await ctx.send({ method: 'FETCH', path: [], contentFormat: format, accept: obs.format ?? format, observe: 1, token, payload: pathsPayload(ctx, paths, format), timeoutMs: opts.timeoutMs }, what);
    expectCode(res, what, ['2.05', '2.03']);
    return { code: res.code };
  }
  const what = describe(ctx.registration, paths[0]);
  const res = await ctx.send({ method: 'GET', path: segments(paths[0]), accept: obs.format, observe: 1, token, timeoutMs: opts.timeoutMs }, what);
  expectCode(res, what, ['2.05', '2.03']);
  return { code: res.code };
}
