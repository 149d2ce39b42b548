import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath } from '../../src/model/path';
import { ModelRegistry } from '../../src/model/registry';
import { ObjectTree } from '../../src/client/object-tree';
import { InvalidValueError, NotFoundError } from '../../src/client/errors';
import { parseExecuteArguments, formatExecuteArguments } from '../../src/client/execute-args';
import { CoapResponseError } from '../../src/errors';
import { Lwm2mClient } from '../../src/client';

const P = (s: string) => Lwm2mPath.parse(s);
const registry = ModelRegistry.withBuiltins();

describe('ObjectTree', () => {
  test('creates instances, converts values to the model types, lists ids in order', () => {
    const t = new ObjectTree(registry);
    t.createInstance(3303, 1, { 5700: '21.5', 5701: 'Cel' });
    t.createInstance(3303, 0, { 5700: 20 });
    t.createInstance(3, 0, { 0: 'ACME', 4: null, 7: [3800, '5000'], 13: 1700000000 });
    assert.deepEqual(t.instanceIds(3303), [0, 1]);
    assert.equal(t.get(P('/3303/1/5700')), 21.5);
    assert.equal(t.get(P('/3/0/4')), null);
    const v = t.get(P('/3/0/7'));
    assert.ok(v instanceof Map);
    assert.deepEqual([...v.entries()], [[0, 3800], [1, 5000]]);
    assert.equal(t.get(P('/3/0/7/1')), 5000);
    assert.ok(t.get(P('/3/0/13')) instanceof Date);
    assert.equal((t.get(P('/3/0/13')) as Date).getTime(), 1700000000 * 1000);
    assert.deepEqual(t.objectIds(), [3, 3303]);
    assert.equal(t.nextInstanceId(3303), 2);
  });

  test('records: tree order, executables left out, multiple resources as instances', () => {
    const t = new ObjectTree(registry);
    t.createInstance(3, 0, { 11: { 3: 1, 0: 0 }, 4: null, 0: 'ACME' });
    const recs = t.records(P('/3/0')).map((r) => [r.path.toString(), r.value]);
    assert.deepEqual(recs, [['/3/0/0', 'ACME'], ['/3/0/11/0', 0], ['/3/0/11/3', 1]]);
    assert.deepEqual(t.records(P('/3/0/11/3')).map((r) => r.value), [1]);
    assert.deepEqual(t.records(P('/3/1')), []);
    assert.deepEqual(t.records(P('/9999')), []);
  });

  test('refuses values that do not fit, unknown resources of known objects, and duplicates', () => {
    const t = new ObjectTree(registry);
    t.createInstance(3303, 0, { 5700: 1 });
    assert.throws(() => t.set(P('/3303/0/5700'), 'warm'), InvalidValueError);
    assert.throws(() => t.set(P('/3303/0/5700'), [1, 2]), /single-instance/);
    assert.throws(() => t.set(P('/3303/0/9999'), 1), /has no resource 9999/);
    assert.throws(() => t.set(P('/3303/7/5700'), 1), NotFoundError);
    assert.throws(() => t.createInstance(3303, 0), /already exists/);
    assert.throws(() => t.createInstance(3, 0, { 4: 'x' }), /executable/);
    t.createInstance(3, 0, { 4: null });
    assert.throws(() => t.set(P('/3/0/4/1'), 1), /single-instance|executable/);
    assert.throws(() => t.set(P('/3/0/4'), 1), /executable/);
    assert.equal(t.get(P('/3303/0/5700')), 1);
  });

  test('unknown objects keep raw values; change events report what changed', () => {
    const t = new ObjectTree(registry);
    const seen: string[] = [];
    t.onChange = (p, kind) => seen.push(`${kind} ${p}`);
    t.createInstance(40000, 0, { 1: 'x', 2: [1, 2] });
    assert.equal(t.set(P('/40000/0/1'), 'x'), false); // same value: no change
    assert.equal(t.set(P('/40000/0/1'), 'y'), true);
    t.set(P('/40000/0/2/5'), 7);
    t.remove(P('/40000/0/2/0'));
    t.deleteInstance(40000, 0);
    assert.deepEqual(seen, ['create /40000/0', 'value /40000/0/1', 'value /40000/0/2/5', 'delete /40000/0/2/0', 'delete /40000/0']);
    assert.equal(t.has(P('/40000/0')), false);
    assert.equal(t.has(P('/40000')), true);
  });

  test('versions: declared, else the model default, else 1.0', () => {
    const t = new ObjectTree(registry);
    t.defineObject(3);
    t.defineObject(3303, '1.0');
    t.defineObject(40000);
    assert.equal(t.objectVersion(3), registry.getObject(3)!.version);
    assert.equal(t.objectVersion(3303), '1.0');
    assert.equal(t.objectVersion(40000), '1.0');
  });
});

describe('Execute arguments (Core 5.4.5)', () => {
  test('parses digits with and without values', () => {
    assert.deepEqual(parseExecuteArguments(Buffer.from("0='http://x.y/a',1,7='a b'".replace(' ', '_'))),
      [{ id: 0, value: 'http://x.y/a' }, { id: 1 }, { id: 7, value: 'a_b' }]);
    assert.deepEqual(parseExecuteArguments(Buffer.alloc(0)), []);
    assert.equal(formatExecuteArguments([{ id: 2, value: 'x' }, { id: 3 }]), "2='x',3");
  });
  test('refuses malformed lists with 4.00', () => {
    for (const s of ['a', '10', "0='x", "0=x", '0,', '0,0', "0='a b'", '0;1', "0='\"'", ',']) {
      assert.throws(() => parseExecuteArguments(s), (e: unknown) => e instanceof CoapResponseError && e.coapCode === '4.00', s);
    }
    assert.throws(() => parseExecuteArguments('0'.repeat(9000)), /longer than/);
  });
});

describe('Lwm2mClient construction', () => {
  test('objects with a version, built-in instances, registration links without the Security object', () => {
    const c = new Lwm2mClient({
      endpoint: 'c1', serverUri: 'coap://127.0.0.1:5683', version: '1.1', firmware: false,
      objects: { 3303: { version: '1.0', instances: { 0: { 5700: 1 } } }, 3311: { 2: { 5850: true } } },
    });
    assert.equal(c.tree.objectVersion(3303), '1.0');
    assert.deepEqual(c.tree.instanceIds(3311), [2]);
    assert.equal(c.tree.hasObject(5), false);
    const links = c.registrationLinks('1.1');
    assert.ok(links.startsWith('</>;rt="oma.lwm2m";ct="60 110 112 11542 11543"'), links);
    assert.ok(links.includes('</3>;ver=1.1,</3/0>'), links);
    assert.ok(links.includes('</3303/0>'), links);
    assert.ok(!links.includes('</0'), links);
    assert.ok(!c.registrationLinks('1.0').includes('ver='));
    assert.deepEqual(c.serverAccounts().map((a) => [a.ssid, a.uri]), [[1, 'coap://127.0.0.1:5683']]);
    assert.equal(c.state, 'stopped');
  });

  test('bad options are refused with ClientConfigError', () => {
    const bad: unknown[] = [
      {}, { endpoint: '' }, { endpoint: 'x' }, { endpoint: 'x', serverUri: 'http://h' }, { endpoint: 'x', serverUri: 'coap://h:70000' },
      { endpoint: 'x', serverUri: 'coap://h', lifetime: -1 }, { endpoint: 'x', serverUri: 'coap://h', version: '2.0' },
      { endpoint: 'x', serverUri: 'coap://h', ssid: 0 }, { endpoint: 'x', bootstrap: { uri: 'nope' } },
      { endpoint: 'x', serverUri: 'coap://h', objects: { 3303: { 0: { 5700: 'hot' } } } },
    ];
    for (const o of bad) assert.throws(() => new Lwm2mClient(o as never), (e: unknown) => e instanceof Error && 'code' in e, JSON.stringify(o));
  });

  test('set() creates a missing instance of a known object; unknown objects need addObject()', () => {
    const c = new Lwm2mClient({ endpoint: 'c2', serverUri: 'coap://127.0.0.1:5683' });
    assert.equal(c.set('/3303/4/5700', '12.5'), true);
    assert.equal(c.get('/3303/4/5700'), 12.5);
    assert.throws(() => c.set('/40000/0/1', 1), NotFoundError);
    c.addObject(40000);
    c.set('/40000/0/1', 1);
    assert.throws(() => c.set('/3303/4', 1), InvalidValueError);
    assert.throws(() => c.setMany({ '/3303/4/5700': 1, '/3303/4/5701': ['a', 'b'] }), InvalidValueError);
    assert.equal(c.get('/3303/4/5700'), 12.5, 'setMany checks everything first');
    c.setMany({ '/3303/4/5700': 1, '/3303/4/5701': 'K' });
    assert.equal(c.get('/3303/4/5701'), 'K');
  });
});
