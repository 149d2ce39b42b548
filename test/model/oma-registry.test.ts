/**
 * Checks against the OMA LwM2M registry checkout (../shared/lwm2m-registry next to the project), when present:
 * every file loads, and our hand-written built-in definitions agree with the registry's XML.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadDdfFolder, loadDdfFolderAsync, NotObjectDefinitionError, parseDdf } from '../../src/model/ddf';
import { BUILTIN_OBJECTS } from '../../src/model/objects';
import { compareVersions } from '../../src/model/registry';
import { ObjectDef } from '../../src/model/types';
import { registryDir } from './locate';

const dir = registryDir();
const skip = dir ? false : 'OMA registry not found at ../shared/lwm2m-registry (next to the project): skipped';

/** XML files of the registry that are not object definitions: the index, reusable resources, extra SenML units. */
const NOT_OBJECTS = ['Common.xml', 'DDF.xml', 'LWM2M_senml_units.xml'];

function norm(name: string): string {
  return name.replace(/\s+/g, ' ').trim().toLowerCase();
}

describe('OMA registry files', { skip }, () => {
  const files = dir ? readdirSync(dir).filter((f) => f.endsWith('.xml')).sort() : [];
  const parsed = new Map<string, ObjectDef[]>();

  test('every XML file of the registry parses, or is one of the known non-object files', () => {
    assert.ok(files.length >= 300, `expected the full registry, found ${files.length} XML files`);
    const skipped: string[] = [];
    for (const f of files) {
      const file = path.join(dir!, f);
      try {
        parsed.set(f, parseDdf(readFileSync(file), file));
      } catch (err) {
        if (err instanceof NotObjectDefinitionError && NOT_OBJECTS.includes(f)) skipped.push(f);
        else throw err;
      }
    }
    assert.deepEqual(skipped, NOT_OBJECTS);
    assert.equal(parsed.size + skipped.length, files.length);
    // The snapshot the project was written against holds 330 XML files, 327 of them object definitions.
    if (files.length === 330) assert.equal(parsed.size, 327);
  });

  test('every object has a sane id (its file name), name, version, URN and resources', () => {
    assert.ok(parsed.size > 0);
    const seen = new Set<number>();
    for (const [f, defs] of parsed) {
      assert.equal(defs.length, 1, f);
      const o = defs[0];
      assert.equal(String(o.id), path.basename(f, '.xml'), `${f}: ObjectID matches the file name`);
      assert.ok(!seen.has(o.id), `${f}: id ${o.id} defined once`);
      seen.add(o.id);
      assert.ok(o.name.length > 0 && o.name !== `Object ${o.id}`, `${f}: has a name`);
      assert.match(o.version, /^\d+\.\d+$/, f);
      if (o.lwm2mVersion !== undefined) assert.match(o.lwm2mVersion, /^1\.[0-2]$/, f);
      assert.match(o.urn, new RegExp(`^urn:oma:lwm2m:(oma|ext|x):${o.id}(:\\d+\\.\\d+)?$`), `${f}: ${o.urn}`);
      const resources = Object.values(o.resources);
      assert.ok(resources.length > 0, `${f}: has resources`);
      for (const r of resources) {
        assert.ok(r.name.length > 0 && r.name !== `Resource ${r.id}`, `${f}: resource ${r.id} has a name`);
        if (r.operations === 'E') assert.ok(r.type === 'none' || r.type === 'string' || r.type === 'opaque', `${f}/${r.id}: executable type ${r.type}`);
      }
    }
  });

  test('loadDdfFolder(Async) over the whole registry: no errors, the three non-object files skipped', async () => {
    for (const result of [loadDdfFolder(dir!), await loadDdfFolderAsync(dir!)]) {
      assert.deepEqual(result.errors.map((e) => e.message), []);
      assert.deepEqual(result.skipped.map((s) => path.basename(s.file)).sort(), NOT_OBJECTS);
      assert.equal(result.objects.length, files.length - NOT_OBJECTS.length);
    }
  });
});

describe('built-in definitions agree with the OMA registry', { skip }, () => {
  for (const ours of BUILTIN_OBJECTS) {
    test(`object ${ours.id} ${ours.name} v${ours.version}`, (t) => {
      const file = path.join(dir!, `${ours.id}.xml`);
      let theirs: ObjectDef;
      try {
        [theirs] = parseDdf(readFileSync(file), file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return t.skip(`${ours.id}.xml not in the registry`);
        throw err;
      }
      const order = compareVersions(ours.version, theirs.version);
      assert.ok(order <= 0, `our version ${ours.version} is newer than the registry's ${theirs.version}`);
      const where = `object ${ours.id} (ours ${ours.version}, registry ${theirs.version})`;
      assert.equal(norm(ours.name), norm(theirs.name), `${where}: name`);
      assert.equal(ours.multiple, theirs.multiple, `${where}: multiple`);
      assert.equal(ours.mandatory, theirs.mandatory, `${where}: mandatory`);
      if (order === 0) {
        assert.equal(ours.urn, theirs.urn, `${where}: urn`);
        assert.equal(ours.lwm2mVersion, theirs.lwm2mVersion ?? '1.0', `${where}: LwM2M version`);
        // Same version: exactly the same resources.
        assert.deepEqual(Object.keys(ours.resources).map(Number).sort((a, b) => a - b),
          Object.keys(theirs.resources).map(Number).sort((a, b) => a - b), `${where}: resource ids`);
      }
      // An older version of ours (Security, Server, Device 1.1 against the registry's 1.2) must be a subset whose
      // resources did not change; every resource of ours must match the registry's.
      for (const r of Object.values(ours.resources)) {
        const o = theirs.resources[r.id];
        assert.ok(o, `${where}: resource ${r.id} ${r.name} missing from the registry`);
        const at = `${where}, resource ${r.id} ${r.name}`;
        assert.equal(norm(r.name), norm(o.name), `${at}: name`);
        assert.equal(r.type, o.type, `${at}: type`);
        assert.equal(r.operations, o.operations, `${at}: operations`);
        assert.equal(r.multiple, o.multiple, `${at}: multiple`);
        assert.equal(r.mandatory, o.mandatory, `${at}: mandatory`);
      }
    });
  }
});
