/**
 * Fuzzing the DDF loader: mutated documents (truncations, byte flips, markup insertions, deleted and repeated spans,
 * swapped values) must either parse into well-formed definitions or throw a ModelError; never anything else.
 * The generator is seeded (FUZZ_SEED=n in the environment tries another seed), so a failure is reproducible.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDdf } from '../../src/model/ddf';
import { ObjectDef, ResourceType } from '../../src/model/types';
import { ModelError } from '../../src/errors';
import { fixture } from './locate';
import { mulberry32 as rng } from '../helpers/prng';


const TYPES: ResourceType[] = ['string', 'integer', 'unsigned', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'corelnk', 'none'];
const SNIPPETS = ['<', '>', '</', '/>', '&', '&amp;', '&#0;', '&#xFFFFFF;', '"', "'", '<![CDATA[', ']]>', '<!--', '-->',
  '<?xml version="1.0"?>', '<Item ID="1">', '</Item>', '<Object>', '</Object>', '<Resources>', '<ObjectID>', '65536',
  '-1', 'Multiple', 'RW', 'Unsigned Integer', '\u0000', '\uFFFF', '\uD800', '__proto__', '<__proto__>', '<constructor>',
  '<!DOCTYPE a>', ' ID="x"', '<Item ID="1"/>'];

function mutate(src: Buffer, rand: () => number): Buffer | string {
  const pick = (n: number) => Math.floor(rand() * n);
  const pos = pick(src.length + 1);
  switch (pick(7)) {
    case 0: // truncation
      return src.subarray(0, pos);
    case 1: { // byte flips
      const out = Buffer.from(src);
      const flips = 1 + pick(8);
      for (let i = 0; i < flips; i++) {
        const at = pick(out.length);
        out[at] ^= 1 << pick(8);
      }
      return out;
    }
    case 2: { // random bytes overwrite
      const out = Buffer.from(src);
      const n = 1 + pick(16);
      for (let i = 0; i < n && pos + i < out.length; i++) out[pos + i] = pick(256);
      return out;
    }
    case 3: { // snippet insertion
      const s = src.toString('utf8');
      const at = pick(s.length + 1);
      return s.slice(0, at) + SNIPPETS[pick(SNIPPETS.length)] + s.slice(at);
    }
    case 4: { // deleted span
      const s = src.toString('utf8');
      const at = pick(s.length);
      return s.slice(0, at) + s.slice(at + 1 + pick(200));
    }
    case 5: { // repeated span
      const s = src.toString('utf8');
      const at = pick(s.length);
      const span = s.slice(at, at + 1 + pick(300));
      return s.slice(0, at) + span.repeat(2 + pick(3)) + s.slice(at);
    }
    default: { // element value replaced by another document's value
      const s = src.toString('utf8');
      const values = [...s.matchAll(/>([^<]{0,40})</g)].map((m) => m[1]);
      if (values.length < 2) return s;
      const a = values[pick(values.length)];
      const b = values[pick(values.length)];
      return s.replace('>' + a + '<', '>' + b + SNIPPETS[pick(SNIPPETS.length)] + '<');
    }
  }
}

function checkDefs(defs: ObjectDef[]): void {
  assert.ok(Array.isArray(defs) && defs.length > 0);
  for (const o of defs) {
    assert.ok(Number.isInteger(o.id) && o.id >= 0 && o.id <= 65535);
    assert.equal(typeof o.name, 'string');
    assert.match(o.version, /^\d+\.\d+$/);
    assert.equal(typeof o.urn, 'string');
    for (const [key, r] of Object.entries(o.resources)) {
      assert.equal(Number(key), r.id);
      assert.ok(Number.isInteger(r.id) && r.id >= 0 && r.id <= 65535);
      assert.ok(TYPES.includes(r.type), r.type);
      assert.ok(['R', 'W', 'RW', 'E', ''].includes(r.operations), r.operations);
      assert.equal(typeof r.multiple, 'boolean');
      assert.equal(typeof r.mandatory, 'boolean');
    }
  }
}

test('2,000 mutated DDFs: parseDdf returns sane definitions or throws ModelError, nothing else', () => {
  const seeds = ['valid-1_0.xml', 'valid-1_1-two-objects.xml', 'sloppy.xml'].map((f) => readFileSync(fixture(f)));
  const rand = rng(Number(process.env.FUZZ_SEED ?? 0x1d2f));
  let parsed = 0;
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const src = seeds[i % seeds.length];
    // Stack mutations now and then, so damage accumulates.
    let input: Buffer | string = mutate(src, rand);
    if (rand() < 0.3) input = mutate(Buffer.from(input), rand);
    try {
      checkDefs(parseDdf(input, `fuzz#${i}`));
      parsed++;
    } catch (err) {
      if (err instanceof assert.AssertionError) throw new Error(`case ${i}: parsed into a malformed definition: ${err.message} ${JSON.stringify(err.actual)} ${JSON.stringify(String(input).slice(0, 3000))}`);
      if (!(err instanceof ModelError)) {
        throw new Error(`case ${i}: threw ${(err as Error)?.constructor?.name}: ${String(err)}\ninput: ${JSON.stringify(String(input).slice(0, 2000))}`);
      }
      assert.equal(err.source, `fuzz#${i}`);
      refused++;
    }
  }
  // Both outcomes occur, so the mutations neither always break nor never break the documents.
  assert.ok(parsed > 50, `parsed ${parsed}`);
  assert.ok(refused > 50, `refused ${refused}`);
});
