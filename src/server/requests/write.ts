import { EncodeError } from '../../errors';
import { encode } from '../../content/index';
import { treeToRecords } from '../../content/tree';
import { Lwm2mRecord } from '../../content/values';
import { Lwm2mPath } from '../../model/path';
import { RequestKind } from '../../content/choose';
import { InvalidArgumentError, UnsupportedOperationError } from '../errors';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';
import { candidateFormats, kindOf, withFormats } from './negotiate';
import { ReceivedResponse } from '../../coap/types';

export interface WriteOptions extends OperationOptions {
  /**
   * Replace (PUT) or Partial Update (POST), Core 1.1 section 6.3, Write. A single-instance resource and a resource instance are
   * always written with PUT. An object instance defaults to a partial update (only the given resources change); a
   * multiple resource defaults to replace (the given instances become its instances).
   */
  replace?: boolean;
}

export interface WriteResult {
  code: string;
  format: number;
}

/**
 * Sends `records` with the first candidate format the device accepts. A candidate that cannot carry the records
 * (EncodeError, e.g. text/plain for several values) is skipped without sending anything.
 */
export async function sendEncoded(
  ctx: RequestContext,
  candidates: readonly number[],
  records: readonly Lwm2mRecord[],
  encodePath: Lwm2mPath,
  send: (format: number, payload: Buffer) => Promise<ReceivedResponse>,
): Promise<{ res: ReceivedResponse; format: number }> {
  let firstError: EncodeError | undefined;
  const usable: Array<{ format: number; payload: Buffer }> = [];
  for (const format of candidates) {
    try {
      usable.push({ format, payload: encode(format, records, { registry: ctx.registry, path: encodePath }) });
    } catch (err) {
      if (err instanceof EncodeError) {
        firstError ??= err;
        continue;
      }
      throw err;
    }
  }
  if (usable.length === 0) throw firstError ?? new EncodeError(candidates[0] ?? -1, 'no content format can carry these values');
  const byFormat = new Map(usable.map((u) => [u.format, u.payload]));
  return withFormats(usable.map((u) => u.format), (format) => send(format, byFormat.get(format)!));
}

/** Write (Core 1.1 section 6.3, Device Management and Service Enablement interface): PUT (replace) or POST (partial update) with the values encoded in a format the device takes. */
export async function write(ctx: RequestContext, path: Lwm2mPath, value: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
  const what = describe(ctx.registration, path);
  if (path.length < 2) throw new InvalidArgumentError(what, 'Write targets an object instance, a resource or a resource instance');
  if (path.isResourceInstance() && ctx.registration.version === '1.0') {
    throw new UnsupportedOperationError(what, 'writing a single resource instance needs LwM2M 1.1 (device is 1.0)');
  }
  const records = treeToRecords(path, value, ctx.registry);
  if (records.length === 0) throw new InvalidArgumentError(what, 'nothing to write');
  const singleValue = !path.isInstance() && records.length === 1 && records[0].path.equals(path);
  const model = kindOf(ctx.registry, path);
  const kind: RequestKind = singleValue && model.kind === 'single' ? 'single' : 'multi';
  let method: 'PUT' | 'POST';
  if (path.isInstance()) method = opts.replace === true ? 'PUT' : 'POST';
  else if (kind === 'single') method = 'PUT';
  else {
    if (opts.replace === false && ctx.registration.version === '1.0') {
      throw new UnsupportedOperationError(what, 'a partial update of a multiple resource needs LwM2M 1.1 (device is 1.0)');
    }
    method = opts.replace === false ? 'POST' : 'PUT';
  }
  const candidates = candidateFormats(ctx.registration, kind, model.resourceType, opts.format, what, ctx.preferredFormat);
  const { res, format } = await sendEncoded(ctx, candidates, records, path, (contentFormat, payload) =>
    ctx.send({ method, path: segments(path), contentFormat, payload, timeoutMs: opts.timeoutMs }, what));
  expectCode(res, what, ['2.04']);
  return { code: res.code, format };
}
