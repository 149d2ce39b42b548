/**
 * What the operation handlers see of the client: the object tree, the observations, and the hooks through which an
 * operation reaches the application (events) or the client's own behaviour (a written lifetime triggers an Update...).
 */
import { CoapRequest } from '../../coap/types';
import { CoapResponseError } from '../../errors';
import { Lwm2mPath } from '../../model/path';
import { ObjectRegistry, ResourceDef } from '../../model/types';
import { Lwm2mValue } from '../../content/values';
import { ObjectTree } from '../object-tree';
import { ObservationManager, ObservationOwner } from '../observe';
import { ExecuteArgument } from '../execute-args';
import { ClientVersion } from '../content';

/** The server account a request came from (a DM server session). */
export interface ServerContext extends ObservationOwner {
  readonly ssid: number;
  readonly version: ClientVersion;
  /** Short label for events (`coap://host:port`). */
  readonly uri: string;
}

export interface HandlerHost {
  readonly tree: ObjectTree;
  readonly registry: ObjectRegistry;
  readonly observations: ObservationManager;
  /** Runs the application's read hooks for resources at or below `path`, storing their values (no notification). */
  refresh(path: Lwm2mPath): Promise<void>;
  /** A server wrote values (after they are stored). */
  written(server: ServerContext | undefined, path: Lwm2mPath, values: Map<string, Lwm2mValue | Map<number, Lwm2mValue>>): void;
  /** Executes a resource: built-in behaviour, then the application's event. May throw CoapResponseError. */
  execute(server: ServerContext, path: Lwm2mPath, args: ExecuteArgument[], raw: string): Promise<void> | void;
  /** An instance was created or deleted by a server (registration Update with the new object links follows). */
  created(server: ServerContext | undefined, path: Lwm2mPath): void;
  deleted(server: ServerContext | undefined, path: Lwm2mPath): void;
  /** Notification attributes changed for a server account at `path`. */
  attributesWritten(server: ServerContext, path: Lwm2mPath): void;
}

export interface OperationRequest {
  req: CoapRequest;
  path: Lwm2mPath;
}

/** Objects a DM server may never see (Core 1.1 E.1: Security; 1.1 OSCORE object 21): they answer 4.04. */
export const HIDDEN_OBJECTS: ReadonlySet<number> = new Set([0, 21]);

export function notFound(path: Lwm2mPath | string, why = 'not found'): CoapResponseError {
  return new CoapResponseError('4.04', String(path), why);
}
export function notAllowed(path: Lwm2mPath | string, why: string): CoapResponseError {
  return new CoapResponseError('4.05', String(path), why);
}
export function badRequest(path: Lwm2mPath | string, why: string): CoapResponseError {
  return new CoapResponseError('4.00', String(path), why);
}

export function isReadable(def: ResourceDef | undefined): boolean {
  return def === undefined || def.operations === 'R' || def.operations === 'RW';
}
export function isWritable(def: ResourceDef | undefined): boolean {
  return def === undefined || def.operations === 'W' || def.operations === 'RW';
}
export function isExecutable(def: ResourceDef | undefined, stored: unknown): boolean {
  return def !== undefined ? def.operations === 'E' : stored === null;
}

/** Checks the path exists for a DM server (hidden objects count as absent). */
export function checkVisible(host: HandlerHost, path: Lwm2mPath): void {
  const o = path.objectId;
  if (o !== undefined && HIDDEN_OBJECTS.has(o)) throw notFound(path, 'not accessible to an LwM2M Server');
  if (!host.tree.has(path)) throw notFound(path);
}
