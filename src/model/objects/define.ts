/**
 * Compact builders for the built-in object definitions. Built-in definitions are deeply frozen: registries share them.
 */
import { ObjectDef, Operations, ResourceDef, ResourceType } from '../types';
import { objectUrn } from '../urn';

export interface ResourceOpts {
  multiple?: boolean;
  mandatory?: boolean;
  range?: string;
  units?: string;
}

/** Mandatory. */
export const MAND: ResourceOpts = { mandatory: true };
/** Multiple-instance. */
export const MULTI: ResourceOpts = { multiple: true };
/** Multiple-instance and mandatory. */
export const MULTI_MAND: ResourceOpts = { multiple: true, mandatory: true };

/** One resource: `r(0, 'Manufacturer', 'R', 'string', 'Human readable manufacturer name')`. */
export function r(id: number, name: string, operations: Operations, type: ResourceType, description: string,
  opts: ResourceOpts = {}): ResourceDef {
  const def: ResourceDef = {
    id, name, operations, multiple: opts.multiple === true, mandatory: opts.mandatory === true, type, description,
  };
  if (opts.range !== undefined) def.range = opts.range;
  if (opts.units !== undefined) def.units = opts.units;
  return Object.freeze(def);
}

export interface ObjectMeta {
  id: number;
  name: string;
  version: string;
  lwm2mVersion: string;
  multiple: boolean;
  mandatory: boolean;
  description: string;
  /** Defaults to the registry URN for the id and version. */
  urn?: string;
}

/** One object from its metadata and resources (duplicate resource ids are a programming error). */
export function defineObject(meta: ObjectMeta, resources: ResourceDef[]): ObjectDef {
  const map: Record<number, ResourceDef> = {};
  for (const res of resources) {
    if (map[res.id] !== undefined) throw new Error(`built-in object ${meta.id}: resource ${res.id} defined twice`);
    map[res.id] = res;
  }
  return Object.freeze({
    id: meta.id,
    name: meta.name,
    version: meta.version,
    lwm2mVersion: meta.lwm2mVersion,
    multiple: meta.multiple,
    mandatory: meta.mandatory,
    urn: meta.urn ?? objectUrn(meta.id, meta.version),
    description: meta.description,
    resources: Object.freeze(map),
  });
}
