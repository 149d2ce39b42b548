import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { pathMapToRecords, recordsToPathMap, recordsToTree, treeToRecords } from '../../src/content/tree';
import { EncodeError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { Lwm2mRecord } from '../../src/content/values';
import { registry, view } from './fixtures';

const rec = (path: string, value?: Lwm2mRecord['value'], time?: number): Lwm2mRecord => {
  const r: Lwm2mRecord = { path: Lwm2mPath.parse(path) };
  if (value !== undefined) r.value = value;
  if (time !== undefined) r.time = time;
  return r;
};

const device = [
  rec('/3/0/0', 'Open Mobile Alliance'), rec('/3/0/6/0', 1), rec('/3/0/6/1', 5), rec('/3/0/9', 100),
  rec('/3/0/13', new Date(1367491215000)),
];

describe('records -> tree', () => {
  test('a single resource gives its value', () => {
    assert.equal(recordsToTree('/3/0/9', [rec('/3/0/9', 100)]), 100);
    assert.equal(recordsToTree('/3/0/9', []), undefined);
  });

  test('a multiple resource gives { riid: value }', () => {
    assert.deepEqual(recordsToTree('/3/0/6', [rec('/3/0/6/0', 1), rec('/3/0/6/1', 5)]), { 0: 1, 1: 5 });
    assert.equal(recordsToTree('/3/0/6/1', [rec('/3/0/6/1', 5)]), 5);
  });

  test('an instance, an object, the root', () => {
    const inst = { 0: 'Open Mobile Alliance', 6: { 0: 1, 1: 5 }, 9: 100, 13: new Date(1367491215000) };
    assert.deepEqual(recordsToTree('/3/0', device), inst);
    assert.deepEqual(recordsToTree('/3', device), { 0: inst });
    assert.deepEqual(recordsToTree(Lwm2mPath.ROOT, [...device, rec('/1/0/1', 300)]), { 1: { 0: { 1: 300 } }, 3: { 0: inst } });
    // Keys come out in numeric order.
    assert.deepEqual(Object.keys(recordsToTree('/3/0', [rec('/3/0/10', 1), rec('/3/0/2', 'x')]) as object), ['2', '10']);
  });

  test('records outside the path and path-only records are ignored', () => {
    assert.deepEqual(recordsToTree('/3/0', [rec('/3/0/0', 'a'), rec('/3/1/0', 'b'), rec('/3/0/1')]), { 0: 'a' });
  });

  test('history: the latest value wins; an untimed value counts as current', () => {
    assert.equal(recordsToTree('/3303/0/5700', [rec('/3303/0/5700', 1, 200), rec('/3303/0/5700', 2, 100)]), 1);
    assert.equal(recordsToTree('/3303/0/5700', [rec('/3303/0/5700', 1, 100), rec('/3303/0/5700', 2, 200)]), 2);
    assert.equal(recordsToTree('/3303/0/5700', [rec('/3303/0/5700', 1, 100), rec('/3303/0/5700', 3)]), 3);
  });

  test('composite results as a path map', () => {
    assert.deepEqual(recordsToPathMap([rec('/3/0/0', 'x'), rec('/1/0/1', 86400), rec('/3/0/6/1', 5), rec('/5/0/1')]),
      { '/3/0/0': 'x', '/1/0/1': 86400, '/3/0/6/1': 5 });
  });
});

describe('tree -> records', () => {
  test('numeric keys, resource names, arrays for multiple resources, typing through the model', () => {
    const records = treeToRecords('/3/0', {
      Manufacturer: 'ACME', 'model number': 'X1', 6: [1, 5], 'Power Source Voltage': { 0: 3800, 2: 5000 },
      13: '2013-05-02T10:40:15Z', 9: '95', 22: { 0: '10250:1' }, 14: undefined,
    }, registry);
    assert.deepEqual(view(records), [
      ['/3/0/0', 'ACME'], ['/3/0/1', 'X1'], ['/3/0/6/0', 1], ['/3/0/6/1', 5], ['/3/0/7/0', 3800], ['/3/0/7/2', 5000], ['/3/0/9', 95],
      ['/3/0/13', 'date:2013-05-02T10:40:15.000Z'], ['/3/0/22/0', { objectId: 10250, instanceId: 1 }],
    ]);
  });

  test('object and root levels, and a single value at a resource or resource instance', () => {
    assert.deepEqual(view(treeToRecords('/3303', { 0: { 5700: 21.5 }, 1: { 5700: 22 } }, registry)),
      [['/3303/0/5700', 21.5], ['/3303/1/5700', 22]]);
    assert.deepEqual(view(treeToRecords('/', { 1: { 0: { 1: 300 } } }, registry)), [['/1/0/1', 300]]);
    assert.deepEqual(view(treeToRecords('/3/0/9', 50, registry)), [['/3/0/9', 50]]);
    assert.deepEqual(view(treeToRecords('/3/0/6/1', '2', registry)), [['/3/0/6/1', 2]]);
    assert.deepEqual(view(treeToRecords('/10250/0/5', Buffer.from('ab'), registry)), [['/10250/0/5', 'hex:6162']]);
    assert.deepEqual(view(treeToRecords('/10250/0/7', { objectId: 1, instanceId: 2 }, registry)), [['/10250/0/7', { objectId: 1, instanceId: 2 }]]);
    // Unknown objects work with numeric keys and raw values.
    assert.deepEqual(view(treeToRecords('/20000/0', { 1: 'x', 2: { 0: 1 } })), [['/20000/0/1', 'x'], ['/20000/0/2/0', 1]]);
  });

  test('round trip with recordsToTree', () => {
    const tree = recordsToTree('/3/0', device);
    assert.deepEqual(view(treeToRecords('/3/0', tree, registry)), view(device));
  });

  test('what does not fit is an EncodeError naming the path', () => {
    const bad: Array<[string, unknown]> = [
      ['/3/0', { Nonsense: 1 }], // unknown name
      ['/3/0', { 0: { 0: 'x' } }], // single resource given instances
      ['/3/0', { 6: 1 }], // multiple resource given a value
      ['/3/0', { 9: null }], // null
      ['/3/0', { 4: 'x' }], // executable
      ['/3/0', { 9: 'abc' }], // wrong type
      ['/3', { first: {} }], // non-numeric instance key
      ['/3', 5], // value at object level
      ['/3', [1]], // array at object level
      ['/3/0/6', { x: 1 }], // non-numeric resource instance key
      ['/3/0/6/0', { 0: 1 }], // object at resource instance
      ['/3/0', { 70000: 1 }], // id out of range
      ['/3', { 65535: {} }], // reserved instance id
      ['/3/x', {}], // bad path
    ];
    for (const [p, t] of bad) {
      assert.throws(() => treeToRecords(p, t, registry, 110), (e: unknown) => e instanceof EncodeError && e.format === 110, `${p} ${JSON.stringify(t)}`);
    }
  });

  test('composite path maps', () => {
    const records = pathMapToRecords({ '/3/0/0': 'x', '/1/0': { Lifetime: 300 }, '/3311/0/5850': 'true' }, registry);
    assert.deepEqual(view(records), [['/3/0/0', 'x'], ['/1/0/1', 300], ['/3311/0/5850', true]]);
    assert.throws(() => pathMapToRecords({ '3/0/0': 1 }, registry), EncodeError);
    assert.throws(() => pathMapToRecords('x', registry), EncodeError);
  });
});
