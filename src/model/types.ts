/**
 * The LwM2M object model (OMA TS Core 7.1, DDF schema LWM2M.xsd / LWM2M-v1_1.xsd).
 */

/** Resource data types (OMA TS Core Appendix C). `none` is the type of executable resources. */
export type ResourceType =
  | 'string'
  | 'integer'
  | 'unsigned'
  | 'float'
  | 'boolean'
  | 'opaque'
  | 'time'
  | 'objlnk'
  | 'corelnk'
  | 'none';

/** Operations allowed on a resource: read, write, read+write, execute, or none (DDF `<Operations>`). */
export type Operations = 'R' | 'W' | 'RW' | 'E' | '';

export interface ResourceDef {
  id: number;
  name: string;
  operations: Operations;
  /** Multiple-instance resource. */
  multiple: boolean;
  mandatory: boolean;
  type: ResourceType;
  /** Range or enumeration as written in the DDF, e.g. `0..100`, `1..255`, `0-6`. */
  range?: string;
  units?: string;
  description?: string;
}

export interface ObjectDef {
  id: number;
  name: string;
  /** Object version, e.g. `1.0`, `1.1`. */
  version: string;
  /** LwM2M enabler version the object was written for (`1.0`, `1.1`), when the DDF says. */
  lwm2mVersion?: string;
  /** Multiple-instance object. */
  multiple: boolean;
  mandatory: boolean;
  /** `urn:oma:lwm2m:oma:3` (or `urn:oma:lwm2m:oma:3:1.1` for versioned objects). */
  urn: string;
  description?: string;
  resources: Record<number, ResourceDef>;
}

/** A source of object definitions, built-in or loaded from DDF files. */
export interface ObjectRegistry {
  /** The object definition, or undefined for an unknown object (which stays usable with raw ids). */
  getObject(objectId: number, version?: string): ObjectDef | undefined;
  getResource(objectId: number, resourceId: number): ResourceDef | undefined;
}
