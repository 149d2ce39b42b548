/**
 * A small, self-contained object registry for the content-format tests (part A): the objects the specification's
 * examples use (Server 1, Access Control 2, Device 3, the Objlnk examples 65/66) and a test object 9999 with one
 * resource of every type. Kept here so the codec tests do not depend on the DDF loader.
 */
import { ObjectDef, ObjectRegistry, ResourceDef, ResourceType } from '../../src/model/types';

type Spec = [id: number, name: string, type: ResourceType, multiple?: boolean];

function obj(id: number, name: string, multiple: boolean, resources: Spec[]): ObjectDef {
  const res: Record<number, ResourceDef> = {};
  for (const [rid, rname, type, mult] of resources) {
    res[rid] = { id: rid, name: rname, operations: type === 'none' ? 'E' : 'RW', multiple: mult === true, mandatory: false, type };
  }
  return { id, name, version: '1.0', multiple, mandatory: false, urn: `urn:oma:lwm2m:oma:${id}`, resources: res };
}

export const TEST_OBJECTS: ObjectDef[] = [
  obj(1, 'LwM2M Server', true, [
    [0, 'Short Server ID', 'integer'], [1, 'Lifetime', 'integer'], [6, 'Notification Storing', 'boolean'], [7, 'Binding', 'string'],
  ]),
  obj(2, 'LwM2M Access Control', true, [
    [0, 'Object ID', 'integer'], [1, 'Object Instance ID', 'integer'], [2, 'ACL', 'integer', true], [3, 'Access Control Owner', 'integer'],
  ]),
  obj(3, 'Device', false, [
    [0, 'Manufacturer', 'string'], [1, 'Model Number', 'string'], [2, 'Serial Number', 'string'], [3, 'Firmware Version', 'string'],
    [4, 'Reboot', 'none'], [5, 'Factory Reset', 'none'], [6, 'Available Power Sources', 'integer', true],
    [7, 'Power Source Voltage', 'integer', true], [8, 'Power Source Current', 'integer', true], [9, 'Battery Level', 'integer'],
    [10, 'Memory Free', 'integer'], [11, 'Error Code', 'integer', true], [12, 'Reset Error Code', 'none'],
    [13, 'Current Time', 'time'], [14, 'UTC Offset', 'string'], [15, 'Timezone', 'string'], [16, 'Supported Binding and Modes', 'string'],
  ]),
  obj(65, 'Objlnk example 1', false, [[0, 'Res 0', 'objlnk', true], [1, 'Res 1', 'string'], [2, 'Res 2', 'integer']]),
  obj(66, 'Objlnk example 2', true, [[0, 'Res 0', 'string'], [1, 'Res 1', 'string'], [2, 'Res 2', 'objlnk']]),
  obj(9999, 'All types', true, [
    [0, 'string', 'string'], [1, 'integer', 'integer'], [2, 'unsigned', 'unsigned'], [3, 'float', 'float'],
    [4, 'boolean', 'boolean'], [5, 'opaque', 'opaque'], [6, 'time', 'time'], [7, 'objlnk', 'objlnk'], [8, 'corelnk', 'corelnk'],
    [9, 'execute', 'none'], [10, 'integers', 'integer', true], [11, 'floats', 'float', true], [12, 'opaques', 'opaque', true],
    [13, 'strings', 'string', true], [300, 'wide id', 'integer'],
  ]),
];

export class TestRegistry implements ObjectRegistry {
  private readonly objects = new Map<number, ObjectDef>();
  constructor(defs: ObjectDef[] = TEST_OBJECTS) {
    for (const d of defs) this.objects.set(d.id, d);
  }
  getObject(objectId: number): ObjectDef | undefined {
    return this.objects.get(objectId);
  }
  getResource(objectId: number, resourceId: number): ResourceDef | undefined {
    return this.objects.get(objectId)?.resources[resourceId];
  }
}

export const registry = new TestRegistry();
/** A registry that knows nothing: every resource is unknown. */
export const emptyRegistry = new TestRegistry([]);

/** Hex string (spaces allowed) to bytes. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}
