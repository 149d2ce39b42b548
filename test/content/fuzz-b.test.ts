/**
 * Fuzzing the part-B decoders (SenML JSON, SenML CBOR, LwM2M JSON, LwM2M CBOR): for each, over 100,000 random and
 * mutated inputs; the only acceptable outcomes are a list of well-formed records or a DecodeError. Whatever decodes is
 * encoded again, where the only acceptable error is an EncodeError. Seeded (FUZZ_SEED=... to replay); the seed is
 * printed. Depth bombs and huge declared lengths are included.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Codec, CodecOptions } from '../../src/content/codec';
import { senmlJsonCodec } from '../../src/content/senml-json';
import { senmlCborCodec } from '../../src/content/senml-cbor';
import { lwm2mJsonCodec } from '../../src/content/lwm2m-json';
import { lwm2mCborCodec } from '../../src/content/lwm2m-cbor';
import { CborWriter } from '../../src/content/cbor-wire';
import { DecodeError, EncodeError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { Lwm2mRecord } from '../../src/content/values';
import { at, emptyRegistry, prng } from './fixtures';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;
console.log(`fuzz-b seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
const PER_DECODER = 100_000;

const rnd = prng(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]): T => a[int(a.length)];

const OPTS: CodecOptions[] = [at('/'), at('/', emptyRegistry), at('/3/0'), at('/10250/0'), at('/3/0/7')];

// ----------------------------------------------------------------------------------------------------------------------
// Valid seeds: random records encoded by each codec, plus hand-written corner cases.

const PATHS = ['/3/0/0', '/3/0/9', '/3/0/13', '/3/0/7/0', '/3/0/7/1', '/1/0/1', '/10250/0/0', '/10250/0/1', '/10250/0/2',
  '/10250/0/3', '/10250/0/4', '/10250/0/5', '/10250/0/6', '/10250/0/7', '/10250/0/9/3', '/3303/0/5700', '/9/1/2', '/9/1/3/4'];

function randomValue(path: string): Lwm2mRecord['value'] {
  switch (path) {
    case '/3/0/0': case '/10250/0/0': return pick(['', 'Open Mobile Alliance', 'é"\\\u0000', 'x'.repeat(int(40))]);
    case '/3/0/13': case '/10250/0/6': return new Date(int(2 ** 31) * 1000);
    case '/10250/0/2': return pick([0, 1, 2 ** 53 + 1, 18446744073709551615n]) as number;
    case '/10250/0/3': case '/3303/0/5700': return pick([0.5, -1e300, 25, 3.4e38, 1 / 3]);
    case '/10250/0/4': return rnd() < 0.5;
    case '/10250/0/5': return Buffer.from(Array.from({ length: int(8) }, () => int(256)));
    case '/10250/0/7': return { objectId: int(65536), instanceId: int(65536) };
    case '/9/1/2': return pick(['s', 1.5, true, Buffer.from([1]), -7] as Lwm2mRecord['value'][]);
    default: return pick([0, -1, 100, 65535, -(2 ** 40), 9223372036854775807n]) as number;
  }
}

function randomRecords(): Lwm2mRecord[] {
  const n = 1 + int(5);
  const out: Lwm2mRecord[] = [];
  const used = new Set<string>();
  for (let i = 0; i < n; i++) {
    const p = pick(PATHS);
    if (used.has(p)) continue;
    used.add(p);
    const r: Lwm2mRecord = { path: Lwm2mPath.parse(p) };
    if (rnd() < 0.9) r.value = randomValue(p);
    if (rnd() < 0.2) r.time = 1_600_000_000 + int(1e8);
    out.push(r);
  }
  return out;
}

function seedsFor(codec: Codec, extra: string[]): Buffer[] {
  const seeds: Buffer[] = extra.map((s) => Buffer.from(s, codec === senmlJsonCodec || codec === lwm2mJsonCodec ? 'utf8' : 'hex'));
  while (seeds.length < 60) {
    try {
      seeds.push(codec.encode(randomRecords(), at('/')));
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
    }
  }
  return seeds;
}

const JSON_SEEDS = [
  '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"6/0","v":1},{"n":"13","v":1367491215}]',
  '[{"bn":"/72/","bt":25462634,"n":"1/2","v":22.4,"t":-5},{"n":"1/2","v":22.9,"t":-30}]',
  '[{"n":"/3/0/0"},{"n":"/1/0/1"}]', '[{"n":"/0/0/16","v":18446744073709551615},{"n":"/0/0/3","vd":"q83v"}]',
  '[{"bn":"/","n":"65/0/0/0","vlo":"66:0"}]',
];
const LJSON_SEEDS = [
  '{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1},{"n":"13","v":1367491215}]}',
  '{"bn":"/3303/0/5700","e":[{"v":22.4,"t":-5},{"v":22.9,"t":-30}],"bt":25462634}',
  '{"bn":"/","e":[{"n":"65/0/0/0","ov":"66:0"},{"n":"10250/0/1","v":123456789012345678901}]}',
];
const SCBOR_SEEDS = ['81a221662f302f302f330843abcdef', '9fbf62626e692f31303235302f302f616e613302f93e00ffff',
  '81a3216c2f333330332f302f3537303022c11a668fc6d402f94d60'];
const LCBOR_SEEDS = ['a1830d181a01182a', 'bf9f0d181a01ff182aff', 'a1810da181181aa18101a18102c48220182d',
  'a2830d181a01182a820d181aa1810215', 'a1830d181a015f480011223344556677488899aabbccddeeffff', 'a20da1181aa101010ea1181ba10202',
  'a1830d181a01a202f60305', 'a18303000dc11a5182428f'];

// ----------------------------------------------------------------------------------------------------------------------
// Input generators

function mutate(src: Buffer): Buffer {
  let b = Buffer.from(src);
  const rounds = rnd() < 0.6 ? 1 : 2 + int(3);
  for (let r = 0; r < rounds; r++) {
    const i = b.length === 0 ? 0 : int(b.length);
    switch (int(8)) {
      case 0: if (b.length) b[i] ^= 1 << int(8); break; // bit flip
      case 1: if (b.length) b[i] = int(256); break; // byte replace
      case 2: b = b.subarray(0, i); break; // truncate
      case 3: b = Buffer.concat([b.subarray(0, i), Buffer.from([int(256)]), b.subarray(i)]); break; // insert
      case 4: b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + int(4))]); break; // delete
      case 5: { const j = int(b.length + 1); b = Buffer.concat([b, b.subarray(Math.min(i, j), Math.max(i, j))]); break; } // duplicate
      case 6: if (b.length) b[i] = pick([0x00, 0x17, 0x18, 0x1b, 0x5b, 0x7b, 0x9f, 0xbf, 0xff, 0xf6, 0xc1, 0x22, 0x5d, 0x7d, 0x2c, 0x3a]); break;
      default: if (b.length) b[i] = b[int(b.length)]; break;
    }
  }
  return b;
}

const JSON_TOKENS = ['[', ']', '{', '}', ',', ':', '"n"', '"bn"', '"bt"', '"t"', '"v"', '"vs"', '"vb"', '"vd"', '"vlo"', '"e"',
  '"sv"', '"ov"', '"bv"', '"/3/0/"', '"/3/0/0"', '"0"', '"6/1"', '"/10250/0/1"', '"3:0"', '"q83v"', '"x_"', 'true', 'false',
  'null', '0', '-1', '1.5e3', '25.5', '18446744073709551615', '-9223372036854775809', '1e400', '"\\u00e9"', '"\\q"', ' ', '\n'];

function jsonish(): Buffer {
  const n = 1 + int(30);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(JSON_TOKENS);
  return Buffer.from(s);
}

function structuredJson(lwm2m: boolean): Buffer {
  const keys = lwm2m ? ['n', 'v', 'sv', 'bv', 'ov', 't'] : ['bn', 'n', 'bt', 't', 'v', 'vs', 'vb', 'vd', 'vlo', 'bv', 'bver', 'u', 'y_'];
  const vals = ['"/3/0/9"', '"9"', '"3/0/"', '"/10250/0/"', '1', '-5', '1.5', '99999999999999999999', '"x"', '"q83v"', '"1:2"',
    'true', 'null', '[]', '{}', '"/3/0/7/1"', '"/"'];
  const recs: string[] = [];
  for (let i = int(5); i >= 0; i--) {
    const fields: string[] = [];
    for (let j = int(5); j >= 0; j--) fields.push(`"${pick(keys)}":${pick(vals)}`);
    recs.push(`{${fields.join(',')}}`);
  }
  return Buffer.from(lwm2m ? `{"bn":${pick(vals)},"bt":${pick(vals)},"e":[${recs.join(',')}]}` : `[${recs.join(',')}]`);
}

function randomCborItem(w: CborWriter, depth: number): void {
  const k = depth > 3 ? int(6) : int(9);
  switch (k) {
    case 0: w.int(pick([0, 1, 23, 24, 255, 256, 65535, 65536, -1, -25, 2 ** 32, 2 ** 53 + 7]) as number); break;
    case 1: w.text(pick(['', 'n', 'vlo', '/3/0/0', '3/0', 'é', '1:2', 'y_'])); break;
    case 2: w.bytes(Buffer.alloc(int(4), 7)); break;
    case 3: w.float(pick([0.5, -1.25, 1e300, NaN, Infinity])); break;
    case 4: if (rnd() < 0.5) w.bool(rnd() < 0.5); else w.nul(); break;
    case 5: w.tag(pick([0, 1, 2, 4, 99])).int(int(1000)); break;
    case 6: { const n = int(4); w.array(n); for (let i = 0; i < n; i++) randomCborItem(w, depth + 1); break; }
    default: {
      const n = int(4);
      w.map(n);
      for (let i = 0; i < n; i++) {
        if (rnd() < 0.7) w.int(pick([-3, -2, 0, 2, 3, 4, 6, 8, 3, 13, 26, 1, 5700])); else randomCborItem(w, depth + 1);
        randomCborItem(w, depth + 1);
      }
    }
  }
}

function randomCbor(): Buffer {
  const w = new CborWriter(0);
  randomCborItem(w, 0);
  return w.finish();
}

const BOMBS: Buffer[] = [
  Buffer.from('['.repeat(200_000)), Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)),
  Buffer.from('[{"n":"/3/0/9","v":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}]'),
  Buffer.from('['.repeat(5_000) + '12345678901234567' + ']'.repeat(5_000)), // the big-number parser path
  Buffer.from('{"e":' + '['.repeat(100_000)),
  Buffer.alloc(200_000, 0x81), Buffer.alloc(200_000, 0x9f), Buffer.alloc(200_000, 0xa1), Buffer.alloc(100_000, 0xbf),
  Buffer.concat([Buffer.alloc(50_000, 0xc1), Buffer.from([0x01])]), // tag chain
  Buffer.from('5bffffffffffffffff', 'hex'), Buffer.from('9bffffffffffffffff', 'hex'), Buffer.from('bbffffffffffffffff', 'hex'),
  Buffer.from('7b7fffffffffffffff', 'hex'), Buffer.from('81a1007affffffff', 'hex'), Buffer.from('815f5affffffff', 'hex'),
  Buffer.from('9a7fffffff', 'hex'), Buffer.from('ba7fffffff', 'hex'),
];

// ----------------------------------------------------------------------------------------------------------------------

function check(codec: Codec, input: Buffer, opts: CodecOptions): void {
  let records: Lwm2mRecord[];
  try {
    records = codec.decode(input, opts);
  } catch (e) {
    if (e instanceof DecodeError) return;
    assert.fail(`${codec.name}: ${(e as Error)?.name}: ${(e as Error)?.message} for input ${input.subarray(0, 200).toString('hex')} `
      + `(seed ${SEED})`);
  }
  assert.ok(Array.isArray(records));
  for (const r of records) {
    assert.ok(r.path instanceof Lwm2mPath && opts.path.contains(r.path), `${codec.name}: bad record path (seed ${SEED})`);
    if (r.value !== undefined) assert.ok(r.path.length >= 3);
    if (r.time !== undefined) assert.ok(Number.isFinite(r.time));
  }
  try {
    codec.encode(records, opts);
  } catch (e) {
    if (!(e instanceof EncodeError)) {
      assert.fail(`${codec.name} re-encode: ${(e as Error)?.name}: ${(e as Error)?.message} for input ${input.subarray(0, 200).toString('hex')} `
        + `(seed ${SEED})`);
    }
  }
}

function run(codec: Codec, seeds: Buffer[], generators: Array<() => Buffer>): void {
  for (const bomb of BOMBS) check(codec, bomb, at('/'));
  for (let i = 0; i < PER_DECODER; i++) {
    const r = rnd();
    let input: Buffer;
    if (r < 0.55) input = mutate(pick(seeds));
    else if (r < 0.6) input = pick(seeds).subarray(0, int(pick(seeds).length + 1));
    else if (r < 0.65) input = Buffer.from(Array.from({ length: int(40) }, () => int(256)));
    else input = pick(generators)();
    check(codec, input, pick(OPTS));
  }
}

describe(`fuzz part B (seed ${SEED})`, () => {
  test('SenML JSON', () => {
    run(senmlJsonCodec, seedsFor(senmlJsonCodec, JSON_SEEDS), [jsonish, () => structuredJson(false)]);
  });
  test('LwM2M JSON', () => {
    run(lwm2mJsonCodec, seedsFor(lwm2mJsonCodec, LJSON_SEEDS), [jsonish, () => structuredJson(true)]);
  });
  test('SenML CBOR', () => {
    run(senmlCborCodec, seedsFor(senmlCborCodec, SCBOR_SEEDS), [randomCbor]);
  });
  test('LwM2M CBOR', () => {
    run(lwm2mCborCodec, seedsFor(lwm2mCborCodec, LCBOR_SEEDS), [randomCbor]);
  });
});
