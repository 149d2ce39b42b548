/**
 * Object definitions for the content-format tests (part B), built by hand so the tests do not depend on the DDF
 * loader: the objects the specification examples use (Server 1, Access Control 2, Device 3, Connectivity Monitoring 4,
 * Location 6, the Objlnk examples 65 / 66 / 67, Temperature 3303, Light Control 3311, Actuation 3308) and a test object
 * 10250 with one resource of each type. Types and multiplicities follow the OMA registry DDFs.
 */
import { Lwm2mPath } from '../../src/model/path';
import { ObjectDef, ObjectRegistry, ResourceDef, ResourceType } from '../../src/model/types';
import { CodecOptions } from '../../src/content/codec';

type R = [id: number, name: string, type: ResourceType, multiple?: boolean];

function def(id: number, name: string, multiple: boolean, resources: R[]): ObjectDef {
  const res: Record<number, ResourceDef> = {};
  for (const [rid, rname, type, mult] of resources) {
    res[rid] = { id: rid, name: rname, operations: type === 'none' ? 'E' : 'RW', multiple: mult === true, mandatory: false, type };
  }
  return { id, name, version: '1.0', multiple, mandatory: false, urn: `urn:oma:lwm2m:oma:${id}`, resources: res };
}

export const OBJECTS: ObjectDef[] = [
  def(0, 'LwM2M Security', true, [[0, 'LwM2M Server URI', 'string'], [2, 'Security Mode', 'integer'], [3, 'Public Key or Identity', 'opaque'],
    [16, 'Test Unsigned', 'unsigned']]),
  def(1, 'LwM2M Server', true, [[0, 'Short Server ID', 'integer'], [1, 'Lifetime', 'integer'], [2, 'Default Minimum Period', 'integer'],
    [6, 'Notification Storing When Disabled or Offline', 'boolean'], [7, 'Binding', 'string'], [8, 'Registration Update Trigger', 'none']]),
  def(2, 'LwM2M Access Control', true, [[0, 'Object ID', 'integer'], [1, 'Object Instance ID', 'integer'], [2, 'ACL', 'integer', true],
    [3, 'Access Control Owner', 'integer']]),
  def(3, 'Device', false, [
    [0, 'Manufacturer', 'string'], [1, 'Model Number', 'string'], [2, 'Serial Number', 'string'], [3, 'Firmware Version', 'string'],
    [4, 'Reboot', 'none'], [5, 'Factory Reset', 'none'], [6, 'Available Power Sources', 'integer', true],
    [7, 'Power Source Voltage', 'integer', true], [8, 'Power Source Current', 'integer', true], [9, 'Battery Level', 'integer'],
    [10, 'Memory Free', 'integer'], [11, 'Error Code', 'integer', true], [12, 'Reset Error Code', 'none'],
    [13, 'Current Time', 'time'], [14, 'UTC Offset', 'string'], [15, 'Timezone', 'string'],
    [16, 'Supported Binding and Modes', 'string'], [17, 'Device Type', 'string'], [18, 'Hardware Version', 'string'],
    [19, 'Software Version', 'string'], [20, 'Battery Status', 'integer'], [21, 'Memory Total', 'integer'],
    [22, 'ExtDevInfo', 'objlnk', true],
  ]),
  def(4, 'Connectivity Monitoring', false, [[0, 'Network Bearer', 'integer'], [1, 'Available Network Bearer', 'integer', true],
    [2, 'Radio Signal Strength', 'integer'], [3, 'Link Quality', 'integer'], [4, 'IP Addresses', 'string', true]]),
  def(6, 'Location', false, [[0, 'Latitude', 'float'], [1, 'Longitude', 'float'], [2, 'Altitude', 'float'], [5, 'Timestamp', 'time']]),
  def(65, 'Objlnk example 65', true, [[0, 'Res 0', 'objlnk', true], [1, 'Res 1', 'string'], [2, 'Res 2', 'integer']]),
  def(66, 'Objlnk example 66', true, [[0, 'Res 0', 'string'], [1, 'Res 1', 'string'], [2, 'Res 2', 'objlnk']]),
  def(67, 'Objlnk example 67', true, [[0, 'Res 0', 'string'], [1, 'Res 1', 'string']]),
  def(3303, 'Temperature', true, [[5700, 'Sensor Value', 'float'], [5701, 'Sensor Units', 'string'], [5601, 'Min Measured Value', 'float'],
    [5602, 'Max Measured Value', 'float'], [5605, 'Reset Min and Max Measured Values', 'none'], [5518, 'Timestamp', 'time']]),
  def(3308, 'Set Point', true, [[5900, 'Set Point Value', 'float'], [5701, 'Sensor Units', 'string']]),
  def(3311, 'Light Control', true, [[5850, 'On/Off', 'boolean'], [5851, 'Dimmer', 'integer'], [5706, 'Colour', 'string']]),
  def(10250, 'Typed test object', true, [
    [0, 'String', 'string'], [1, 'Integer', 'integer'], [2, 'Unsigned', 'unsigned'], [3, 'Float', 'float'], [4, 'Boolean', 'boolean'],
    [5, 'Opaque', 'opaque'], [6, 'Time', 'time'], [7, 'Objlnk', 'objlnk'], [8, 'Corelnk', 'corelnk'], [9, 'Integers', 'integer', true],
    [10, 'Execute', 'none'], [11, 'Objlnks', 'objlnk', true], [12, 'Floats', 'float', true], [13, 'Opaques', 'opaque', true],
  ]),
];

export class FixtureRegistry implements ObjectRegistry {
  private readonly byId = new Map<number, ObjectDef>();
  constructor(defs: ObjectDef[] = OBJECTS) {
    for (const d of defs) this.byId.set(d.id, d);
  }
  getObject(objectId: number): ObjectDef | undefined {
    return this.byId.get(objectId);
  }
  getResource(objectId: number, resourceId: number): ResourceDef | undefined {
    return this.byId.get(objectId)?.resources[resourceId];
  }
}

export const registry = new FixtureRegistry();
/** A registry that knows nothing: every resource is "unknown". */
export const emptyRegistry = new FixtureRegistry([]);

/** Codec options for a target path with the fixture registry. */
export function at(path: string, reg: ObjectRegistry = registry): CodecOptions {
  return { registry: reg, path: Lwm2mPath.parse(path) };
}

/** Compact, comparable view of records: `[path, value, time]` with Buffers as hex and Dates as ISO strings. */
export function view(records: ReadonlyArray<{ path: Lwm2mPath; value?: unknown; time?: number }>): unknown[] {
  return records.map((r) => {
    const v = r.value;
    const shown = Buffer.isBuffer(v) ? `hex:${v.toString('hex')}` : v instanceof Date ? `date:${v.toISOString()}` : v;
    return r.time === undefined ? [r.path.toString(), shown] : [r.path.toString(), shown, r.time];
  });
}

/** The Device object instance of the OMA examples (Core 1.0.2 6.4.3 / 1.1 7.4.4-2, 7.4.5-2), as [path, value]. */
export const DEVICE_EXAMPLE: Array<[string, unknown]> = [
  ['/3/0/0', 'Open Mobile Alliance'], ['/3/0/1', 'Lightweight M2M Client'], ['/3/0/2', '345000123'], ['/3/0/3', '1.0'],
  ['/3/0/6/0', 1], ['/3/0/6/1', 5], ['/3/0/7/0', 3800], ['/3/0/7/1', 5000], ['/3/0/8/0', 125], ['/3/0/8/1', 900],
  ['/3/0/9', 100], ['/3/0/10', 15], ['/3/0/11/0', 0], ['/3/0/13', 'date:2013-05-02T10:40:15.000Z'], ['/3/0/14', '+02:00'],
  ['/3/0/16', 'U'],
];

/** A seeded PRNG (mulberry32) for reproducible random tests. */
export { mulberry32 as prng } from '../helpers/prng';
