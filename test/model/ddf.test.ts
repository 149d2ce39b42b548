import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  loadDdfFile, loadDdfFileAsync, loadDdfFolder, loadDdfFolderAsync, MAX_DDF_BYTES, NotObjectDefinitionError, parseDdf,
} from '../../src/model/ddf';
import { objectUrn } from '../../src/model/urn';
import { ModelError } from '../../src/errors';
import { fixture } from './locate';

function read(name: string): string {
  return readFileSync(fixture(name), 'utf8');
}

/** Asserts a ModelError naming `source` whose message contains every fragment. */
function assertModelError(fn: () => unknown, source: string, ...fragments: string[]): ModelError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ModelError, `expected ModelError, got ${String(caught)}`);
  assert.equal(caught.code, 'MODEL');
  assert.equal(caught.source, source);
  assert.ok(caught.message.startsWith(source + ':'), caught.message);
  for (const f of fragments) assert.ok(caught.message.includes(f), `"${caught.message}" should contain "${f}"`);
  return caught;
}

describe('parseDdf: valid documents', () => {
  test('LwM2M 1.0 format: every field, every 1.0 type, defaults for missing version and URN', () => {
    const defs = parseDdf(read('valid-1_0.xml'), 'valid-1_0.xml');
    assert.equal(defs.length, 1);
    const o = defs[0];
    assert.equal(o.id, 10999);
    assert.equal(o.name, 'Test Thermostat');
    assert.equal(o.version, '1.0');
    assert.equal(o.lwm2mVersion, undefined);
    assert.equal(o.multiple, true);
    assert.equal(o.mandatory, false);
    assert.equal(o.urn, 'urn:oma:lwm2m:x:10999');
    assert.equal(o.description, 'A thermostat used by the model tests. Has <angle brackets> & ampersands in CDATA.');
    assert.deepEqual(Object.keys(o.resources).map(Number), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(o.resources[0], {
      id: 0, name: 'Target', operations: 'RW', multiple: false, mandatory: true, type: 'float', range: '5..30', units: 'Cel',
      description: 'Target temperature & set point',
    });
    const r = o.resources;
    assert.deepEqual([r[1].type, r[1].multiple, r[1].mandatory, r[1].operations], ['string', true, false, 'RW']);
    assert.deepEqual([r[2].type, r[2].operations], ['none', 'E']);
    assert.deepEqual([r[3].type, r[3].operations], ['boolean', 'R']);
    assert.deepEqual([r[4].type, r[4].operations], ['opaque', 'W']);
    assert.equal(r[5].type, 'time');
    assert.equal(r[6].type, 'objlnk');
    assert.equal(r[7].type, 'integer');
    assert.equal(r[7].range, '-5..5');
    // Empty optional elements leave the optional fields out.
    assert.equal('range' in r[1], false);
    assert.equal('units' in r[3], false);
    assert.equal('description' in r[3], false);
  });

  test('LwM2M 1.1 format: several objects, Unsigned Integer and Corelnk, versions, URN given or built', () => {
    const defs = parseDdf(Buffer.from(read('valid-1_1-two-objects.xml')), 'two.xml');
    assert.deepEqual(defs.map((d) => d.id), [3450, 42800]);
    const [meter, empty] = defs;
    assert.equal(meter.version, '1.2');
    assert.equal(meter.lwm2mVersion, '1.1');
    assert.equal(meter.urn, 'urn:oma:lwm2m:ext:3450:1.2');
    assert.equal(meter.multiple, false);
    assert.equal(meter.mandatory, true);
    assert.equal(meter.description, 'Counts things.\n\nSecond part.');
    assert.equal(meter.resources[65535].type, 'unsigned');
    assert.equal(meter.resources[65535].range, '0..18446744073709551615');
    assert.equal(meter.resources[1].type, 'corelnk');
    assert.equal(empty.version, '2.0');
    assert.equal(empty.urn, 'urn:oma:lwm2m:x:42800:2.0');
    assert.deepEqual(empty.resources, {});
    assert.equal(empty.description, undefined);
  });

  test('lenient with sloppy files: BOM, whitespace, letter case, doubled spaces, missing optional elements', () => {
    const [o] = parseDdf(read('sloppy.xml'), 'sloppy.xml');
    assert.equal(o.id, 3441);
    assert.equal(o.name, 'Sloppy Object');
    assert.equal(o.version, '1.0');
    assert.equal(o.multiple, true);
    assert.equal(o.mandatory, false);
    assert.equal(o.urn, 'urn:oma:lwm2m:ext:3441');
    assert.deepEqual(o.resources[5], {
      id: 5, name: 'Two Spaces', operations: 'RW', multiple: true, mandatory: true, type: 'unsigned', units: 's',
    });
    assert.deepEqual(o.resources[6], {
      id: 6, name: 'Resource 6', operations: '', multiple: false, mandatory: false, type: 'objlnk',
    });
  });

  test('values stay text: "1.0" is not turned into the number 1, "010" keeps its digits', () => {
    const xml = read('valid-1_0.xml').replace('<ObjectURN></ObjectURN>', '<ObjectURN></ObjectURN><ObjectVersion>1.10</ObjectVersion>')
      .replace('<Units>Cel</Units>', '<Units>010</Units>');
    const [o] = parseDdf(xml);
    assert.equal(o.version, '1.10');
    assert.equal(o.urn, 'urn:oma:lwm2m:x:10999:1.10');
    assert.equal(o.resources[0].units, '010');
  });

  test('objectUrn follows the registry ranges', () => {
    assert.equal(objectUrn(3), 'urn:oma:lwm2m:oma:3');
    assert.equal(objectUrn(3, '1.1'), 'urn:oma:lwm2m:oma:3:1.1');
    assert.equal(objectUrn(1023), 'urn:oma:lwm2m:oma:1023');
    assert.equal(objectUrn(2048), 'urn:oma:lwm2m:ext:2048');
    assert.equal(objectUrn(3303, '1.1'), 'urn:oma:lwm2m:ext:3303:1.1');
    assert.equal(objectUrn(10240), 'urn:oma:lwm2m:ext:10240');
    assert.equal(objectUrn(10241), 'urn:oma:lwm2m:x:10241');
  });
});

describe('parseDdf: clear ModelErrors', () => {
  test('malformed XML names the line and column', () => {
    const err = assertModelError(() => parseDdf(read('malformed.xml'), 'malformed.xml'), 'malformed.xml', 'malformed XML', 'line 9');
    assert.match(err.message, /column \d+/);
  });
  test('missing ObjectID', () => {
    assertModelError(() => parseDdf(read('missing-objectid.xml'), 'm.xml'), 'm.xml', 'missing <ObjectID>');
  });
  test('ObjectID out of range', () => {
    assertModelError(() => parseDdf(read('bad-objectid.xml'), 'b.xml'), 'b.xml', 'ObjectID "70000"');
  });
  test('bad resource ID', () => {
    assertModelError(() => parseDdf(read('bad-resource-id.xml'), 'b.xml'), 'b.xml', 'object 10998', 'ID "abc"');
  });
  test('missing resource ID', () => {
    assertModelError(() => parseDdf(read('missing-resource-id.xml'), 'b.xml'), 'b.xml', 'no ID attribute');
  });
  test('unknown type', () => {
    assertModelError(() => parseDdf(read('unknown-type.xml'), 'u.xml'), 'u.xml', 'resource 0', 'unknown type "Decimal"');
  });
  test('unknown operations', () => {
    assertModelError(() => parseDdf(read('unknown-operations.xml'), 'u.xml'), 'u.xml', 'unknown operations "X"');
  });
  test('names of Object.prototype members are unknown types and operations, not lookups into the prototype', () => {
    const xml = read('unknown-type.xml');
    for (const word of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assertModelError(() => parseDdf(xml.replace('Decimal', word), 'p.xml'), 'p.xml', `unknown type "${word}"`);
      const ops = read('valid-1_0.xml').replace('<Operations>RW</Operations>', `<Operations>${word}</Operations>`);
      assertModelError(() => parseDdf(ops, 'p.xml'), 'p.xml', `unknown operations "${word}"`);
    }
  });
  test('duplicate resource ID', () => {
    assertModelError(() => parseDdf(read('duplicate-resource.xml'), 'd.xml'), 'd.xml', 'resource ID 0 is defined twice');
  });
  test('another root element', () => {
    assertModelError(() => parseDdf(read('not-lwm2m.xml'), 'n.xml'), 'n.xml', 'root element is <catalog>');
  });
  test('the default source is <string>', () => {
    assertModelError(() => parseDdf('<LWM2M>'), '<string>', 'malformed XML');
  });

  test('bad values of the enumerated elements', () => {
    const base = read('valid-1_0.xml');
    const cases: Array<[string, string, string]> = [
      ['<MultipleInstances>Multiple</MultipleInstances>', '<MultipleInstances>Many</MultipleInstances>', 'MultipleInstances is "Many"'],
      ['<Mandatory>Mandatory</Mandatory>', '<Mandatory>Yes</Mandatory>', 'Mandatory is "Yes"'],
      ['<ObjectURN></ObjectURN>', '<ObjectURN></ObjectURN><ObjectVersion>latest</ObjectVersion>', 'ObjectVersion "latest"'],
      ['<ObjectURN></ObjectURN>', '<ObjectURN></ObjectURN><LWM2MVersion>v1</LWM2MVersion>', 'LWM2MVersion "v1"'],
    ];
    for (const [from, to, fragment] of cases) {
      const xml = base.replace(from, to);
      assert.notEqual(xml, base);
      assertModelError(() => parseDdf(xml, 'x.xml'), 'x.xml', fragment);
    }
  });

  test('stray text beside <Item> elements and an empty <Item ID="9"/> are tolerated', () => {
    const [o] = parseDdf(read('valid-1_0.xml').replace('<Resources>', '<Resources>text<Item ID="9"/>'));
    assert.deepEqual(o.resources[9], { id: 9, name: 'Resource 9', operations: '', multiple: false, mandatory: false, type: 'none' });
    assert.equal(o.resources[0].name, 'Target');
  });

  test('documents that are not usable at all', () => {
    const cases: Array<[unknown, string]> = [
      ['', 'empty document'],
      ['   \n ', 'empty document'],
      ['just text', 'malformed XML'],
      ['<LWM2M></LWM2M>', 'holds no <Object>'],
      ['<LWM2M/>', 'holds no <Object>'],
      ['<LWM2M><Object/></LWM2M>', '<Object> has no content'],
      ['<LWM2M><Object><ObjectID>1</ObjectID><Resources><Item/></Resources></Object></LWM2M>', '<Item> has no content'],
      ['<LWM2M><Object><ObjectID>1</ObjectID><Resources>x</Resources></Object></LWM2M>', '<Resources> must hold <Item>'],
      ['<LWM2M><Object><ObjectID>-1</ObjectID></Object></LWM2M>', 'ObjectID "-1"'],
      ['<LWM2M><Object><ObjectID>1.5</ObjectID></Object></LWM2M>', 'ObjectID "1.5"'],
      ['<a/><b/>', 'several root elements'],
      ['<!DOCTYPE x [<!ENTITY a "aaaa">]><LWM2M><Object><ObjectID>&a;</ObjectID></Object></LWM2M>', 'DOCTYPE'],
      [42, 'must be a string or a Buffer'],
      [null, 'must be a string or a Buffer'],
    ];
    for (const [input, fragment] of cases) {
      assertModelError(() => parseDdf(input as string, 's'), 's', fragment);
    }
  });

  test('an object without resources or names gets defaults rather than an error', () => {
    const [o] = parseDdf('<LWM2M><Object ObjectType="MODefinition"><ObjectID>7</ObjectID></Object></LWM2M>');
    assert.deepEqual(o, { id: 7, name: 'Object 7', version: '1.0', multiple: false, mandatory: false, urn: 'urn:oma:lwm2m:oma:7', resources: {} });
  });

  test('registry files that are not object definitions get NotObjectDefinitionError (a ModelError)', () => {
    const list = '<?xml version="1.0"?><DDFList><Item><ObjectID>0</ObjectID></Item></DDFList>';
    const err = assertModelError(() => parseDdf(list, 'DDF.xml'), 'DDF.xml', 'not an LwM2M object definition', 'DDFList');
    assert.ok(err instanceof NotObjectDefinitionError);
    const common = '<LWM2M><Object ObjectType="CommonResources"><Resources><Item ID="4000"><Name>x</Name></Item></Resources></Object></LWM2M>';
    assert.ok(assertModelError(() => parseDdf(common, 'Common.xml'), 'Common.xml', 'CommonResources') instanceof NotObjectDefinitionError);
    const units = '<units><title>Additional SenML Units</title></units>';
    assert.ok(assertModelError(() => parseDdf(units, 'u.xml'), 'u.xml', 'units') instanceof NotObjectDefinitionError);
  });

  test('oversized input is refused before parsing', () => {
    const big = '<LWM2M>' + ' '.repeat(MAX_DDF_BYTES) + '</LWM2M>';
    assertModelError(() => parseDdf(big, 'big.xml'), 'big.xml', 'larger than');
    assertModelError(() => parseDdf(Buffer.from(big), 'big.xml'), 'big.xml', 'larger than');
  });

  test('deeply nested XML gives a ModelError, not a stack overflow', () => {
    const depth = 100_000;
    const xml = '<LWM2M><Object><ObjectID>1</ObjectID><Description1>' + '<a>'.repeat(depth) + '</a>'.repeat(depth)
      + '</Description1></Object></LWM2M>';
    try {
      parseDdf(xml, 'deep.xml');
    } catch (err) {
      assert.ok(err instanceof ModelError, String(err));
    }
  });
});

describe('DDF files and folders', () => {
  test('loadDdfFile and loadDdfFileAsync name the file in errors', async () => {
    const good = fixture('valid-1_0.xml');
    assert.equal((await loadDdfFileAsync(good))[0].id, 10999);
    assert.equal(loadDdfFile(good)[0].id, 10999);
    const bad = fixture('unknown-type.xml');
    await assert.rejects(loadDdfFileAsync(bad), (err: unknown) => err instanceof ModelError && err.source === bad && err.message.includes('unknown type'));
    assertModelError(() => loadDdfFile(bad), bad, 'unknown type');
    const missing = fixture('does-not-exist.xml');
    await assert.rejects(loadDdfFileAsync(missing), (err: unknown) => err instanceof ModelError && err.message.includes('ENOENT') && err.source === missing);
    assertModelError(() => loadDdfFile(missing), missing, 'ENOENT');
  });

  for (const [name, load] of [
    ['loadDdfFolderAsync', (dir: string, strict?: boolean) => loadDdfFolderAsync(dir, { strict })],
    ['loadDdfFolder', async (dir: string, strict?: boolean) => loadDdfFolder(dir, { strict })],
  ] as const) {
    test(`${name}: good files load, bad files are reported by name, other XML is skipped, non-XML ignored`, async () => {
      const dir = fixture('mixed');
      const result = await load(dir);
      assert.deepEqual(result.objects.map((o) => o.id), [10999, 3450, 42800], 'natural file order: 2-, 10-');
      assert.equal(result.errors.length, 1);
      assert.equal(result.errors[0].file, path.join(dir, '5-broken.xml'));
      assert.ok(result.errors[0].error instanceof ModelError);
      assert.ok(result.errors[0].error.message.startsWith(path.join(dir, '5-broken.xml') + ':'));
      assert.ok(result.errors[0].error.message.includes('unknown type'));
      assert.equal(result.errors[0].message, result.errors[0].error.message);
      assert.deepEqual(result.skipped.map((s) => path.basename(s.file)), ['DDF.xml']);
      assert.match(result.skipped[0].reason, /DDFList/);
    });

    test(`${name}: strict mode throws the first bad file's error`, async () => {
      const dir = fixture('mixed');
      await assert.rejects(load(dir, true), (err: unknown) => err instanceof ModelError && err.source === path.join(dir, '5-broken.xml'));
    });

    test(`${name}: a missing folder is a ModelError naming it`, async () => {
      const dir = fixture('no-such-folder');
      await assert.rejects(load(dir), (err: unknown) => err instanceof ModelError && err.source === dir && err.message.includes('ENOENT'));
    });

    test(`${name}: unreadable entries (a folder named x.xml, an oversized file) are reported, not fatal`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ddf-test-'));
      try {
        mkdirSync(path.join(dir, 'folder.xml'));
        writeFileSync(path.join(dir, 'huge.xml'), Buffer.alloc(MAX_DDF_BYTES + 1, 0x20));
        writeFileSync(path.join(dir, 'ok.XML'), read('valid-1_0.xml'));
        const result = await load(dir);
        assert.deepEqual(result.objects.map((o) => o.id), [10999]);
        assert.deepEqual(result.errors.map((e) => path.basename(e.file)).sort(), ['folder.xml', 'huge.xml']);
        for (const e of result.errors) assert.ok(e.error instanceof ModelError && e.error.source === e.file);
        assert.ok(result.errors.find((e) => e.file.endsWith('huge.xml'))?.error.message.includes('larger than'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
