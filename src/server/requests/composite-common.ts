import { encode } from '../../content/index';
import { Lwm2mPath } from '../../model/path';
import { InvalidArgumentError, UnsupportedOperationError } from '../errors';
import { RequestContext } from './context';

/** Helpers shared by the composite operations (Read-Composite, Write-Composite, Observe-Composite; Core 1.1 sections 6.3 and 6.4). */

/** Parses and checks the paths of a composite request. */
export function compositePaths(endpoint: string, paths: ReadonlyArray<string | Lwm2mPath>): Lwm2mPath[] {
  if (!Array.isArray(paths) || paths.length === 0) throw new InvalidArgumentError(`${endpoint} (composite)`, 'give at least one path');
  if (paths.length > 1024) throw new InvalidArgumentError(`${endpoint} (composite)`, 'more than 1024 paths');
  return paths.map((p) => Lwm2mPath.from(p));
}

export function compositeWhat(endpoint: string, paths: readonly Lwm2mPath[]): string {
  const list = paths.slice(0, 4).map(String).join(',');
  return `${endpoint} [${list}${paths.length > 4 ? ',...' : ''}]`;
}

export function requireComposite(ctx: RequestContext, what: string, op: string): void {
  if (ctx.registration.version === '1.0') throw new UnsupportedOperationError(what, `${op} needs LwM2M 1.1 (device is 1.0)`);
}

/** The request payload naming the paths (SenML records without values, Core 1.1 section 6.3, Read-Composite). */
export function pathsPayload(ctx: RequestContext, paths: readonly Lwm2mPath[], format: number): Buffer {
  return encode(format, paths.map((path) => ({ path })), { registry: ctx.registry, path: Lwm2mPath.ROOT });
}
