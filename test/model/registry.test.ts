import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, ModelRegistry } from '../../src/model/registry';
import { BUILTIN_OBJECTS, CORE_OBJECTS, IPSO_OBJECTS } from '../../src/model/objects';
import { Lwm2mPath } from '../../src/model/path';
import { ObjectDef, ResourceDef } from '../../src/model/types';
import { InvalidPathError, ModelError } from '../../src/errors';
import { fixture } from './locate';
import * as model from '../../src/model';

function res(id: number, name: string, extra: Partial<ResourceDef> = {}): ResourceDef {
  return { id, name, operations: 'R', multiple: false, mandatory: false, type: 'string', ...extra };
}

function def(id: number, version: string, name = `Obj ${id} v${version}`, resources: ResourceDef[] = []): ObjectDef {
  const map: Record<number, ResourceDef> = {};
  for (const r of resources) map[r.id] = r;
  return { id, name, version, multiple: false, mandatory: false, urn: `urn:test:${id}:${version}`, resources: map };
}

describe('built-in definitions', () => {
  test('hold the required objects, once each', () => {
    const ids = BUILTIN_OBJECTS.map((o) => o.id);
    assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 3200, 3201, 3202, 3203, 3300, 3301, 3302, 3303, 3304, 3306, 3308, 3311,
      3312, 3328, 3331, 3347]);
    assert.equal(CORE_OBJECTS.length + IPSO_OBJECTS.length, BUILTIN_OBJECTS.length);
  });

  test('Security, Server and Device are the LwM2M 1.1 versions, with their 1.1 resources', () => {
    const r = ModelRegistry.withBuiltins();
    for (const id of [0, 1, 3]) {
      const o = r.getObject(id);
      assert.equal(o?.version, '1.1', `object ${id}`);
      assert.equal(o?.lwm2mVersion, '1.1');
      assert.equal(o?.urn, `urn:oma:lwm2m:oma:${id}:1.1`);
    }
    assert.equal(r.getResource(0, 17)?.name, 'OSCORE Security Mode');
    assert.equal(r.getResource(0, 18), undefined, 'Security 1.2 resources are not in 1.1');
    assert.equal(r.getResource(1, 23)?.name, 'Mute Send');
    assert.equal(r.getResource(1, 24), undefined);
    assert.equal(r.getResource(3, 22)?.name, 'ExtDevInfo');
    assert.equal(r.getResource(3, 22)?.type, 'objlnk');
    assert.equal(r.getResource(3303, 5700)?.type, 'float');
    assert.equal(r.getObject(3303)?.urn, 'urn:oma:lwm2m:ext:3303:1.1');
    assert.equal(r.getObject(3311)?.urn, 'urn:oma:lwm2m:ext:3311');
  });

  test('are consistent: keys match ids, names and descriptions present, executables typeless, ids in range', () => {
    for (const o of BUILTIN_OBJECTS) {
      assert.ok(o.name && o.description, `object ${o.id}`);
      assert.match(o.version, /^\d+\.\d+$/);
      for (const [key, r] of Object.entries(o.resources)) {
        assert.equal(Number(key), r.id, `${o.id}/${key}`);
        assert.ok(r.name && r.description, `${o.id}/${r.id}`);
        assert.ok(Number.isInteger(r.id) && r.id >= 0 && r.id <= 65535);
        assert.equal(r.operations === 'E', r.type === 'none', `${o.id}/${r.id}: executable iff type none`);
      }
    }
  });

  test('are frozen, so registries can share them safely', () => {
    const device = ModelRegistry.withBuiltins().getObject(3)!;
    assert.ok(Object.isFrozen(device) && Object.isFrozen(device.resources) && Object.isFrozen(device.resources[0]));
    assert.throws(() => { (device.resources[0] as { name: string }).name = 'x'; }, TypeError);
    assert.equal(ModelRegistry.withBuiltins().getResource(3, 0)?.name, 'Manufacturer');
  });
});

describe('ModelRegistry lookups', () => {
  test('unknown objects and resources are undefined', () => {
    const r = ModelRegistry.withBuiltins();
    assert.equal(r.getObject(12345), undefined);
    assert.equal(r.getObject(12345, '1.0'), undefined);
    assert.equal(r.getResource(12345, 0), undefined);
    assert.equal(r.getResource(3, 999), undefined);
    assert.equal(r.has(12345), false);
    assert.equal(r.has(3), true);
    assert.equal(new ModelRegistry().getObject(3), undefined);
    assert.equal(new ModelRegistry().size, 0);
  });

  test('objects() lists the default definition of each object by id', () => {
    const r = new ModelRegistry().addAll([def(9, '1.0'), def(2, '1.0'), def(9, '1.1')]);
    assert.deepEqual(r.objects().map((o) => `${o.id}@${o.version}`), ['2@1.0', '9@1.1']);
    assert.equal(r.size, 2);
    assert.deepEqual(r.allVersions().map((o) => `${o.id}@${o.version}`), ['2@1.0', '9@1.0', '9@1.1']);
  });

  test('without a version the newest version wins, whatever the order of addition', () => {
    const a = new ModelRegistry().addAll([def(3, '1.0'), def(3, '1.2'), def(3, '1.1')]);
    const b = new ModelRegistry().addAll([def(3, '1.2'), def(3, '1.1'), def(3, '1.0')]);
    assert.equal(a.getObject(3)?.version, '1.2');
    assert.equal(b.getObject(3)?.version, '1.2');
    assert.deepEqual(a.versions(3).map((d) => d.version), ['1.0', '1.1', '1.2']);
    // 1.10 is newer than 1.9 (numeric, not text, comparison).
    assert.equal(new ModelRegistry().addAll([def(3, '1.10'), def(3, '1.9')]).getObject(3)?.version, '1.10');
  });

  test('the same id and version replaces the earlier definition (a user DDF overrides a built-in)', () => {
    const r = ModelRegistry.withBuiltins();
    r.add(def(3, '1.1', 'My Device', [res(0, 'Maker')]));
    assert.equal(r.getObject(3)?.name, 'My Device');
    assert.equal(r.getResource(3, 0)?.name, 'Maker');
    assert.equal(r.versions(3).length, 1);
  });

  test('a version lookup: exact, else nearest older of the same major, else nearest newer of the same major, else default', () => {
    const r = new ModelRegistry().addAll([def(5, '1.0'), def(5, '1.2'), def(5, '2.0')]);
    assert.equal(r.getObject(5, '1.0')?.version, '1.0');
    assert.equal(r.getObject(5, '1.2')?.version, '1.2');
    assert.equal(r.getObject(5, '1.1')?.version, '1.0');
    assert.equal(r.getObject(5, '1.5')?.version, '1.2');
    assert.equal(r.getObject(5, '2.3')?.version, '2.0');
    assert.equal(r.getObject(5, '3.0')?.version, '2.0');
    const only11 = new ModelRegistry().add(def(3, '1.1'));
    assert.equal(only11.getObject(3, '1.0')?.version, '1.1', 'a 1.0 device still gets the 1.1 types');
    assert.equal(only11.hasVersion(3, '1.0'), false);
    assert.equal(only11.has(3, '1.1'), true);
    assert.equal(only11.has(3, '1.0'), false);
  });

  test('getResource follows the version', () => {
    const r = new ModelRegistry().addAll([def(1, '1.0', 'S', [res(1, 'Lifetime', { type: 'integer' })]),
      def(1, '1.2', 'S', [res(1, 'Lifetime', { type: 'unsigned' })])]);
    assert.equal(r.getResource(1, 1)?.type, 'unsigned');
    assert.equal(r.getResource(1, 1, '1.0')?.type, 'integer');
  });

  test('remove one version or all', () => {
    const r = new ModelRegistry().addAll([def(3, '1.0'), def(3, '1.1')]);
    assert.equal(r.remove(3, '1.1'), true);
    assert.equal(r.getObject(3)?.version, '1.0');
    assert.equal(r.remove(3, '9.9'), false);
    assert.equal(r.remove(3), true);
    assert.equal(r.has(3), false);
    assert.equal(r.remove(3), false);
  });

  test('add refuses malformed definitions with a ModelError', () => {
    const r = new ModelRegistry();
    const bad: unknown[] = [
      null, { ...def(1, '1.0'), id: -1 }, { ...def(1, '1.0'), id: 70000 }, { ...def(1, '1.0'), id: 1.5 },
      { ...def(1, '1.0'), version: '' }, { ...def(1, '1.0'), name: 3 }, { ...def(1, '1.0'), resources: null },
      { ...def(1, '1.0'), resources: { 1: res(2, 'x') } },
    ];
    for (const d of bad) assert.throws(() => r.add(d as ObjectDef), ModelError, JSON.stringify(d));
    assert.equal(r.size, 0);
  });

  test('compareVersions', () => {
    assert.ok(compareVersions('1.0', '1.1') < 0);
    assert.ok(compareVersions('1.10', '1.9') > 0);
    assert.ok(compareVersions('2.0', '1.99') > 0);
    assert.equal(compareVersions('1.1', '1.1'), 0);
    assert.ok(compareVersions('1.0', 'beta') < 0);
    assert.ok(compareVersions('beta', '1.0') > 0);
  });
});

describe('names', () => {
  const r = ModelRegistry.withBuiltins();

  test('resourceName', () => {
    assert.equal(r.resourceName('/3/0/0'), 'Manufacturer');
    assert.equal(r.resourceName(Lwm2mPath.parse('/3/0/7/1')), 'Power Source Voltage');
    assert.equal(r.resourceName('/3'), 'Device');
    assert.equal(r.resourceName('/3/0'), 'Device');
    assert.equal(r.resourceName('/'), undefined);
    assert.equal(r.resourceName('/3/0/999'), undefined);
    assert.equal(r.resourceName('/12345/0/1'), undefined);
    assert.throws(() => r.resourceName('/3/x'), InvalidPathError);
  });

  test('describePath', () => {
    assert.equal(r.describePath('/3/0/0'), 'Device / Manufacturer');
    assert.equal(r.describePath('/3'), 'Device');
    assert.equal(r.describePath('/3/0'), 'Device');
    assert.equal(r.describePath('/3/0/7/1'), 'Device / Power Source Voltage [1]');
    assert.equal(r.describePath('/3303/2/5700'), 'Temperature #2 / Sensor Value');
    assert.equal(r.describePath('/3303/2'), 'Temperature #2');
    assert.equal(r.describePath('/3/0/999'), 'Device / Resource 999');
    assert.equal(r.describePath('/12345/0/5'), '/12345/0/5');
    assert.equal(r.describePath('/'), '/');
    assert.throws(() => r.describePath('3/0'), InvalidPathError);
  });

  test('names follow the version asked for', () => {
    const v = new ModelRegistry().addAll([def(9, '1.0', 'Old', [res(1, 'A')]), def(9, '2.0', 'New', [res(1, 'B')])]);
    assert.equal(v.describePath('/9/0/1'), 'New / B');
    assert.equal(v.describePath('/9/0/1', '1.0'), 'Old / A');
    assert.equal(v.resourceName('/9/0/1', '1.0'), 'A');
  });
});

describe('pathSuggestions', () => {
  const r = ModelRegistry.withBuiltins();

  test('no query lists every object and resource, objects before their resources, in path order', () => {
    const all = r.pathSuggestions();
    const resourceCount = BUILTIN_OBJECTS.reduce((n, o) => n + Object.keys(o.resources).length, 0);
    assert.equal(all.length, BUILTIN_OBJECTS.length + resourceCount);
    assert.deepEqual(all.slice(0, 3).map((s) => s.path), ['/0', '/0/0/0', '/0/0/1']);
    const sorted = [...all].sort((a, b) => Lwm2mPath.compare(Lwm2mPath.parse(a.path), Lwm2mPath.parse(b.path)));
    assert.deepEqual(all.map((s) => s.path), sorted.map((s) => s.path));
  });

  test('entries carry label, type, operations and units', () => {
    const [m] = r.pathSuggestions('/3/0/0', { objects: false });
    assert.deepEqual(m, {
      path: '/3/0/0', label: 'Device / Manufacturer', kind: 'resource', objectId: 3, resourceId: 0, type: 'string',
      operations: 'R', multiple: false, mandatory: false, version: '1.1',
    });
    const [lat] = r.pathSuggestions('/6/0/0', { objects: false });
    assert.equal(lat.units, 'lat');
    const [obj] = r.pathSuggestions('/3', { resources: false, limit: 1 });
    assert.deepEqual(obj, { path: '/3', label: 'Device', kind: 'object', objectId: 3, multiple: false, mandatory: true, version: '1.1' });
  });

  test('path prefixes: the last segment is a prefix, the instance any number, the slash optional', () => {
    const paths = (q: string) => r.pathSuggestions(q).map((s) => s.path);
    assert.deepEqual(paths('/3/0/1'), ['/3/0/1', '/3/0/10', '/3/0/11', '/3/0/12', '/3/0/13', '/3/0/14', '/3/0/15', '/3/0/16', '/3/0/17', '/3/0/18', '/3/0/19']);
    assert.deepEqual(paths('/3303/4/57'), ['/3303/0/5700', '/3303/0/5701', '/3303/0/5750']);
    assert.deepEqual(paths('3303/0/57'), paths('/3303/0/57'));
    assert.ok(paths('/33').every((p) => p.startsWith('/33')));
    assert.ok(paths('/33').includes('/3303'));
    assert.ok(paths('/33').includes('/3347/0/5500'));
    const device = paths('/3/');
    assert.equal(device.length, Object.keys(r.getObject(3)!.resources).length);
    assert.ok(device.every((p) => p.startsWith('/3/0/')));
    assert.deepEqual(paths('/3/x'), []);
    assert.deepEqual(paths('/99999'), []);
  });

  test('words match labels, ignoring case and order', () => {
    const labels = r.pathSuggestions('temp SENSOR value').map((s) => s.label);
    assert.deepEqual(labels, ['Temperature / Sensor Value']);
    const manuf = r.pathSuggestions('manufacturer');
    assert.deepEqual(manuf.map((s) => s.path), ['/3/0/0']);
    assert.deepEqual(r.pathSuggestions('no such thing'), []);
  });

  test('limit, and the list follows additions', () => {
    assert.equal(r.pathSuggestions('', { limit: 5 }).length, 5);
    assert.equal(r.pathSuggestions('', { limit: 0 }).length, 0);
    const own = ModelRegistry.withBuiltins();
    assert.deepEqual(own.pathSuggestions('thermostat'), []);
    own.add(def(10999, '1.0', 'Thermostat', [res(0, 'Target', { type: 'float', units: 'Cel' })]));
    assert.deepEqual(own.pathSuggestions('thermostat').map((s) => `${s.path} ${s.units ?? ''}`), ['/10999 ', '/10999/0/0 Cel']);
    // The returned entries are copies: changing one does not change the registry's list.
    own.pathSuggestions('thermostat')[0].label = 'changed';
    assert.equal(own.pathSuggestions('thermostat')[0].label, 'Thermostat');
  });
});

describe('registry DDF loading', () => {
  test('loadDdf, loadDdfFile(Async) and loadDdfFolder(Async) add what loads', async () => {
    const r = ModelRegistry.withBuiltins();
    const before = r.size;
    assert.deepEqual(r.loadDdf('<LWM2M><Object><ObjectID>20000</ObjectID><Name>Mine</Name></Object></LWM2M>').map((d) => d.id), [20000]);
    assert.equal(r.getObject(20000)?.name, 'Mine');
    assert.deepEqual((await r.loadDdfFileAsync(fixture('valid-1_0.xml'))).map((d) => d.id), [10999]);
    assert.equal(r.describePath('/10999/0/0'), 'Test Thermostat / Target');
    assert.deepEqual(r.loadDdfFile(fixture('sloppy.xml')).map((d) => d.id), [3441]);
    const result = await r.loadDdfFolderAsync(fixture('mixed'));
    assert.equal(result.errors.length, 1);
    assert.ok(r.has(3450) && r.has(42800));
    assert.equal(r.size, before + 5);
    const r2 = new ModelRegistry();
    r2.loadDdfFolder(fixture('mixed'));
    assert.deepEqual(r2.objects().map((o) => o.id), [3450, 10999, 42800]);
    assert.throws(() => r2.loadDdf('<nope/>', 'x'), ModelError);
    assert.equal(r2.size, 3, 'a failed load adds nothing');
  });

  test('the index re-exports the public API', () => {
    assert.equal(model.ModelRegistry, ModelRegistry);
    assert.equal(typeof model.parseDdf, 'function');
    assert.equal(typeof model.loadDdfFolder, 'function');
    assert.equal(typeof model.Lwm2mPath.parse, 'function');
    assert.equal(model.BUILTIN_OBJECTS, BUILTIN_OBJECTS);
  });
});
