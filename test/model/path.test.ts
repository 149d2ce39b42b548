import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath, MAX_ID, MAX_INSTANCE_ID } from '../../src/model/path';
import { InvalidPathError, Lwm2mError } from '../../src/errors';

/** Asserts that `fn` throws an InvalidPathError whose message contains every given fragment. */
function assertInvalid(fn: () => unknown, ...fragments: string[]): InvalidPathError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidPathError, `expected InvalidPathError, got ${String(caught)}`);
  assert.ok(caught instanceof Lwm2mError);
  assert.equal(caught.code, 'INVALID_PATH');
  for (const f of fragments) assert.ok(caught.message.includes(f), `message "${caught.message}" should contain "${f}"`);
  return caught;
}

describe('Lwm2mPath.parse / toString', () => {
  test('round trips every level', () => {
    const cases: Array<[string, number[], string]> = [
      ['/', [], 'root'],
      ['/3', [3], 'object'],
      ['/3/0', [3, 0], 'instance'],
      ['/3/0/0', [3, 0, 0], 'resource'],
      ['/3/0/0/1', [3, 0, 0, 1], 'resourceInstance'],
      ['/65535/65534/65535/65535', [65535, 65534, 65535, 65535], 'resourceInstance'],
      ['/0/0/0/0', [0, 0, 0, 0], 'resourceInstance'],
    ];
    for (const [text, ids, level] of cases) {
      const p = Lwm2mPath.parse(text);
      assert.deepEqual([...p.segments], ids, text);
      assert.equal(p.level, level, text);
      assert.equal(p.length, ids.length);
      assert.equal(p.toString(), text);
      assert.equal(JSON.stringify({ p }), JSON.stringify({ p: text }));
      assert.ok(Lwm2mPath.parse(p.toString()).equals(p));
      assert.ok(new Lwm2mPath(ids).equals(p));
    }
  });

  test('root is "/" and a shared instance', () => {
    const root = Lwm2mPath.parse('/');
    assert.equal(root, Lwm2mPath.ROOT);
    assert.ok(root.isRoot());
    assert.equal(root.objectId, undefined);
    assert.equal(root.toString(), '/');
    assert.equal(new Lwm2mPath([]).toString(), '/');
  });

  test('accessors of /3/0/0/1', () => {
    const p = Lwm2mPath.parse('/3/0/0/1');
    assert.equal(p.objectId, 3);
    assert.equal(p.instanceId, 0);
    assert.equal(p.resourceId, 0);
    assert.equal(p.resourceInstanceId, 1);
    assert.ok(p.isResourceInstance());
    assert.ok(!p.isResource() && !p.isInstance() && !p.isObject() && !p.isRoot());
  });

  test('a trailing slash is accepted and dropped', () => {
    assert.equal(Lwm2mPath.parse('/3/0/').toString(), '/3/0');
    assert.equal(Lwm2mPath.parse('/3/').toString(), '/3');
  });

  test('leading zeros are read as decimal and normalised away', () => {
    assert.equal(Lwm2mPath.parse('/03/00/010').toString(), '/3/0/10');
  });

  test('limits: 65535 is valid for objects, resources and resource instances, not for instances', () => {
    assert.equal(MAX_ID, 65535);
    assert.equal(MAX_INSTANCE_ID, 65534);
    assert.equal(Lwm2mPath.parse('/65535').objectId, 65535);
    assert.equal(Lwm2mPath.parse('/1/65534').instanceId, 65534);
    assert.equal(Lwm2mPath.parse('/1/0/65535').resourceId, 65535);
    assert.equal(Lwm2mPath.parse('/1/0/1/65535').resourceInstanceId, 65535);
  });
});

describe('Lwm2mPath.parse errors', () => {
  test('/3/x: not a number', () => { assertInvalid(() => Lwm2mPath.parse('/3/x'), '/3/x', 'segment 2', 'not a number'); });
  test('/65536: above 65535', () => { assertInvalid(() => Lwm2mPath.parse('/65536'), 'segment 1', '65535'); });
  test('/3/65535: reserved instance id', () => { assertInvalid(() => Lwm2mPath.parse('/3/65535'), 'segment 2', '65534'); });
  test('3/0: no leading slash', () => { assertInvalid(() => Lwm2mPath.parse('3/0'), 'must start with "/"'); });
  test('//3: empty first segment', () => { assertInvalid(() => Lwm2mPath.parse('//3'), 'segment 1 is empty'); });
  test('/3//1: empty inner segment', () => { assertInvalid(() => Lwm2mPath.parse('/3//1'), 'segment 2 is empty'); });
  test('//: empty', () => { assertInvalid(() => Lwm2mPath.parse('//'), 'empty'); });
  test('/3/0//: empty last segment before the trailing slash', () => { assertInvalid(() => Lwm2mPath.parse('/3/0//'), 'segment 3 is empty'); });
  test('5 segments', () => { assertInvalid(() => Lwm2mPath.parse('/3/0/0/1/2'), 'more than 4 segments'); });
  test('empty string', () => { assertInvalid(() => Lwm2mPath.parse(''), 'must start with "/"'); });

  test('signs, decimals, exponents, spaces, hex and non-ASCII digits are refused', () => {
    for (const bad of ['/-1', '/+3', '/3.0', '/3e1', '/ 3', '/3 ', '/0x3', '/３', '/٣', '/3/0/a1', '/1/0/0/1.5']) {
      assertInvalid(() => Lwm2mPath.parse(bad), 'not a number');
    }
  });

  test('more than 5 digits is refused even when the value is small', () => {
    assertInvalid(() => Lwm2mPath.parse('/000003'), 'not a number');
  });

  test('a huge string is refused without being split', () => {
    const huge = '/1'.repeat(1_000_000);
    const err = assertInvalid(() => Lwm2mPath.parse(huge), 'longer than');
    assert.ok(err.message.length < 200, 'the error message stays short');
  });

  test('accepts exactly what the reference grammar accepts (random strings near the grammar)', () => {
    // The reference: split on "/", every segment 1-5 ASCII digits, at most 4, ids in range, one optional trailing "/".
    const reference = (s: string): number[] | undefined => {
      if (s === '/') return [];
      if (s.length > 25 || !s.startsWith('/')) return undefined;
      const parts = (s.endsWith('/') ? s.slice(1, -1) : s.slice(1)).split('/');
      if (parts.length > 4) return undefined;
      const ids: number[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (!/^[0-9]{1,5}$/.test(parts[i])) return undefined;
        const n = Number(parts[i]);
        if (n > (i === 1 ? 65534 : 65535)) return undefined;
        ids.push(n);
      }
      return ids;
    };
    let seed = 11;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000) * n);
    const alphabet = ['/', '/', '/', '0', '1', '3', '5', '6', '9', '65535', '65534', '65536', '99999', '00', 'a', ' ', '-', '.', '٣'];
    let accepted = 0;
    for (let k = 0; k < 30000; k++) {
      let s = rnd(10) < 8 ? '/' : '';
      const parts = 1 + rnd(9);
      for (let j = 0; j < parts; j++) s += alphabet[rnd(alphabet.length)];
      const want = reference(s);
      let got: number[] | undefined;
      try {
        const p = Lwm2mPath.parse(s);
        got = [...p.segments];
        assert.equal(p.toString(), '/' + got.join('/'), s);
      } catch (err) {
        assert.ok(err instanceof InvalidPathError, s);
      }
      assert.deepEqual(got, want, JSON.stringify(s));
      if (want) accepted++;
    }
    assert.ok(accepted > 1000, `enough valid paths drawn (${accepted})`);
  });

  test('non-strings', () => {
    for (const bad of [undefined, null, 3, 3n, true, {}, ['/3'], Symbol('x'), Object.create(null)]) {
      assertInvalid(() => Lwm2mPath.parse(bad as unknown as string), 'not a string');
    }
  });
});

describe('Lwm2mPath constructor and from()', () => {
  test('refuses bad id arrays', () => {
    assertInvalid(() => new Lwm2mPath([1, 2, 3, 4, 5]), 'more than 4 segments');
    assertInvalid(() => new Lwm2mPath([-1]), 'segment 1');
    assertInvalid(() => new Lwm2mPath([65536]), 'segment 1');
    assertInvalid(() => new Lwm2mPath([3, 65535]), 'segment 2', '65534');
    assertInvalid(() => new Lwm2mPath([1.5]), 'segment 1');
    assertInvalid(() => new Lwm2mPath([NaN]), 'segment 1');
    assertInvalid(() => new Lwm2mPath([Infinity]), 'segment 1');
    assertInvalid(() => new Lwm2mPath(['3'] as unknown as number[]), 'segment 1');
    // A hole in a sparse array is an undefined segment.
    // eslint-disable-next-line no-sparse-arrays
    assertInvalid(() => new Lwm2mPath([3, , 1] as unknown as number[]), 'segment 2');
    assertInvalid(() => new Lwm2mPath(null as unknown as number[]), 'not an array');
    assertInvalid(() => new Lwm2mPath('/3' as unknown as number[]), 'not an array');
  });

  test('is immutable: the input array can change afterwards, segments cannot', () => {
    const ids = [3, 0, 1];
    const p = new Lwm2mPath(ids);
    ids[0] = 4;
    assert.equal(p.toString(), '/3/0/1');
    assert.throws(() => { (p.segments as number[])[0] = 9; }, TypeError);
    assert.equal(p.objectId, 3);
  });

  test('from() accepts a path, a string or an array, and refuses anything else with a typed error', () => {
    const p = Lwm2mPath.parse('/3/0');
    assert.equal(Lwm2mPath.from(p), p);
    assert.ok(Lwm2mPath.from('/3/0').equals(p));
    assert.ok(Lwm2mPath.from([3, 0]).equals(p));
    for (const bad of [undefined, null, 3, {}, true]) {
      assertInvalid(() => Lwm2mPath.from(bad as unknown as string), 'not a path');
    }
  });
});

describe('Lwm2mPath navigation and ordering', () => {
  test('child and parent', () => {
    const p = Lwm2mPath.parse('/3/0');
    assert.equal(p.child(7).toString(), '/3/0/7');
    assert.equal(p.child(7).child(2).toString(), '/3/0/7/2');
    assert.equal(p.parent().toString(), '/3');
    assert.ok(p.parent().parent().isRoot());
    assert.equal(Lwm2mPath.ROOT.parent(), Lwm2mPath.ROOT);
    assertInvalid(() => Lwm2mPath.parse('/3/0/7/2').child(1), 'more than 4 segments');
    assertInvalid(() => Lwm2mPath.parse('/3').child(65535), 'segment 2');
  });

  test('contains and equals', () => {
    const obj = Lwm2mPath.parse('/3');
    const res = Lwm2mPath.parse('/3/0/1');
    assert.ok(Lwm2mPath.ROOT.contains(res));
    assert.ok(obj.contains(res));
    assert.ok(obj.contains(obj));
    assert.ok(!res.contains(obj));
    assert.ok(!Lwm2mPath.parse('/30').contains(Lwm2mPath.parse('/3/0')));
    assert.ok(!Lwm2mPath.parse('/3/1').contains(res));
    assert.ok(res.equals(Lwm2mPath.parse('/3/0/1/')));
    assert.ok(!res.equals(obj));
  });

  test('compare orders like a depth-first walk', () => {
    const texts = ['/3/0/1', '/', '/3', '/1/0', '/3/0/1/0', '/3/0', '/10', '/3/0/0', '/2'];
    const sorted = texts.map((t) => Lwm2mPath.parse(t)).sort(Lwm2mPath.compare).map(String);
    assert.deepEqual(sorted, ['/', '/1/0', '/2', '/3', '/3/0', '/3/0/0', '/3/0/1', '/3/0/1/0', '/10']);
  });
});
