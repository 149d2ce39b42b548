import { pathMapToRecords } from '../../content/tree';
import { Lwm2mPath } from '../../model/path';
import { InvalidArgumentError } from '../errors';
import { expectCode, OperationOptions, RequestContext } from './context';
import { candidateFormats } from './negotiate';
import { compositeWhat, requireComposite } from './composite-common';
import { sendEncoded } from './write';

export interface CompositeWriteResult {
  code: string;
  format: number;
}

/**
 * Write-Composite (Core 1.1 section 6.3, Device Management and Service Enablement interface): iPATCH on the root with SenML records of the values, keyed by path:
 * `{ '/3/0/14': '+02', '/1/0/1': 300 }` (a value may be a tree for an instance path).
 */
export async function writeComposite(ctx: RequestContext, valuesByPath: Record<string, unknown>, opts: OperationOptions = {}): Promise<CompositeWriteResult> {
  const records = pathMapToRecords(valuesByPath, ctx.registry);
  const what = compositeWhat(ctx.registration.endpoint, records.map((r) => r.path));
  requireComposite(ctx, what, 'Write-Composite');
  if (records.length === 0) throw new InvalidArgumentError(what, 'nothing to write');
  const candidates = candidateFormats(ctx.registration, 'composite', undefined, opts.format, what, ctx.preferredFormat);
  const { res, format } = await sendEncoded(ctx, candidates, records, Lwm2mPath.ROOT, (contentFormat, payload) =>
    ctx.send({ method: 'iPATCH', path: [], contentFormat, payload, timeoutMs: opts.timeoutMs }, what));
  expectCode(res, what, ['2.04']);
  return { code: res.code, format };
}
