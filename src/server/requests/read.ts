import { DecodeError } from '../../errors';
import { UndecodedRecord } from '../../content/codec';
import { Lwm2mRecord } from '../../content/values';
import { recordsToTree, TreeNode } from '../../content/tree';
import { isMultipleResource, resourceDefOf } from '../../content/typing';
import { Lwm2mPath } from '../../model/path';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';
import { candidateFormats, decodeAnswer, readKindOf, withFormats } from './negotiate';

export interface ReadResult {
  /** The typed value: a resource's value, `{ [riid]: value }`, `{ [resourceId]: ... }`... (content/tree.ts). */
  value: TreeNode | undefined;
  /** The decoded records (absolute paths). */
  records: Lwm2mRecord[];
  /** Content format of the answer. */
  format: number;
  /** CoAP code of the answer (2.05). */
  code: string;
  /**
   * Records of the answer whose value could not be decoded (a value the model does not allow, a TLV value of the
   * wrong size...): left out of `value` and `records`. Present only when there were some.
   */
  undecoded?: UndecodedRecord[];
}

/**
 * Read (Core 1.1 section 6.3, Device Management and Service Enablement interface): GET with Accept. The Accept is
 * chosen from the device's version and `ct=` list; a 4.06 Not Acceptable is retried with the next format it may
 * support. A resource the model does not know is asked for in a structured format first (it may have several
 * instances), and a 5.00 to that guess is retried too.
 *
 * Decoding is lenient below the requested path: a malformed record of an instance read is reported in `undecoded`
 * and the rest returned; when the requested path itself does not decode, or a resource read carries no value at all
 * (an empty pack), the read fails with a DecodeError.
 */
export async function read(ctx: RequestContext, path: Lwm2mPath, opts: OperationOptions = {}): Promise<ReadResult> {
  const what = describe(ctx.registration, path);
  const { kind, resourceType } = readKindOf(ctx.registry, path);
  const candidates = candidateFormats(ctx.registration, kind, resourceType, opts.format, what, ctx.preferredFormat);
  const { res, format: asked } = await withFormats(candidates, (accept) =>
    ctx.send({ method: 'GET', path: segments(path), accept, timeoutMs: opts.timeoutMs }, what),
  { retryServerErrorFirst: kind === 'unknown' && opts.format === undefined });
  expectCode(res, what, ['2.05']);
  const undecoded: UndecodedRecord[] = [];
  const { records, format } = decodeAnswer(ctx, res, path, asked, what, undecoded);
  const own = undecoded.find((u) => u.path.equals(path));
  if (own !== undefined) throw new DecodeError(format, `${what}: ${own.reason}`);
  const value = recordsToTree(path, records);
  if (value === undefined && path.length >= 3 && undecoded.length === 0 && !mayBeEmpty(ctx, path, records)) {
    // A 2.05 for a single value must carry it (an empty SenML / LwM2M JSON pack is not a value).
    throw new DecodeError(format, `${what}: the answer carries no value for ${path}`);
  }
  const result: ReadResult = { value, records, format, code: res.code };
  if (undecoded.length > 0) result.undecoded = undecoded;
  return result;
}

/**
 * True when a resource read may legitimately carry no value: a multiple-instance resource with no instances (the model
 * says multiple, or, unknown to the model, the answer names the resource with no value, as an empty TLV multiple
 * resource does).
 */
function mayBeEmpty(ctx: RequestContext, path: Lwm2mPath, records: readonly Lwm2mRecord[]): boolean {
  if (!path.isResource()) return false;
  if (isMultipleResource(ctx.registry, path)) return true;
  return resourceDefOf(ctx.registry, path) === undefined && records.some((r) => r.path.equals(path));
}
