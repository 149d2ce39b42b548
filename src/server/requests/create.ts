import { ContentFormat } from '../../content/formats';
import { treeToRecords } from '../../content/tree';
import { MAX_INSTANCE_ID, Lwm2mPath } from '../../model/path';
import { Lwm2mError } from '../../errors';
import { InvalidArgumentError } from '../errors';
import { registrationObjects } from '../registration';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';
import { candidateFormats } from './negotiate';
import { sendEncoded } from './write';

export interface CreateResult {
  /** The new instance's id (from the answer's Location-Path, or the id that was asked for). */
  instanceId: number;
  /** `/O/I` of the new instance. */
  path: string;
  code: string;
  format: number;
}

/**
 * Create (Core 1.1 section 6.3, Device Management and Service Enablement interface): POST on the object with the new instance's resources.
 * - With an instance id, the payload names it (TLV object-instance wrapper, SenML names `/O/I/R`).
 * - Without one, an LwM2M 1.0 device gets resource TLVs only and assigns the id itself (Core 1.0.2 5.4.6; Leshan does
 *   the same); for 1.1+ devices, whose SenML payloads always name the instance, the server picks the lowest id not in
 *   the device's registered instance list.
 * The answer's Location-Path (`/O/I`, under the alternate root path if any) gives the id.
 */
export async function create(ctx: RequestContext, objectPath: Lwm2mPath, values: unknown, instanceId?: number, opts: OperationOptions = {}): Promise<CreateResult> {
  const what = describe(ctx.registration, objectPath);
  if (!objectPath.isObject()) throw new InvalidArgumentError(what, 'Create targets an object (/O)');
  if (instanceId !== undefined && (!Number.isInteger(instanceId) || instanceId < 0 || instanceId > MAX_INSTANCE_ID)) {
    throw new InvalidArgumentError(what, `instance id must be an integer from 0 to ${MAX_INSTANCE_ID}`);
  }
  const objectId = objectPath.objectId!;
  const reg = ctx.registration;
  let idInPayload = instanceId;
  let formats: readonly number[];
  if (instanceId === undefined && reg.version === '1.0' && opts.format === undefined) {
    formats = [ContentFormat.TLV];
  } else {
    if (instanceId === undefined) {
      const known = new Set(registrationObjects(reg)[objectId]?.instances ?? []);
      let id = 0;
      while (known.has(id) && id < MAX_INSTANCE_ID) id++;
      idInPayload = id;
    }
    formats = candidateFormats(reg, 'multi', undefined, opts.format, what, ctx.preferredFormat);
  }
  const instancePath = objectPath.child(idInPayload ?? 0);
  const records = treeToRecords(instancePath, values ?? {}, ctx.registry);
  // Without an id in the payload, encode relative to the instance: resource TLVs with no instance wrapper.
  const encodePath = instanceId === undefined && idInPayload === undefined ? instancePath : objectPath;
  const { res, format } = await sendEncoded(ctx, formats, records, encodePath, (contentFormat, payload) =>
    ctx.send({ method: 'POST', path: segments(objectPath), contentFormat, payload, timeoutMs: opts.timeoutMs }, what));
  expectCode(res, what, ['2.01']);
  let newId = idInPayload;
  const loc = res.locationPath;
  if (loc && loc.length > 0) {
    const last = loc[loc.length - 1];
    if (/^\d{1,5}$/.test(last) && Number(last) <= MAX_INSTANCE_ID) newId = Number(last);
    else throw new Lwm2mError('BAD_RESPONSE', `${what}: Create answer has Location-Path "/${loc.join('/')}" with no instance id`);
  }
  if (newId === undefined) {
    throw new Lwm2mError('BAD_RESPONSE', `${what}: Create answer has no Location-Path; the new instance id is unknown`);
  }
  return { instanceId: newId, path: `/${objectId}/${newId}`, code: res.code, format };
}
