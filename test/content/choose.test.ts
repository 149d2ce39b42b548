import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseFormat, fallbackFormats, formatsFor, mandatoryFormats, normalizeVersion, recommendedFormats,
} from '../../src/content/choose';
import { ContentFormat as CF } from '../../src/content/formats';
import { Lwm2mError } from '../../src/errors';

describe('what each LwM2M version must understand', () => {
  test('versions normalise to 1.0 / 1.1 / 1.2', () => {
    assert.deepEqual(['1.0', '1.0.2', '1.1', '1.1.1', '1.2', '1.2.2', '1.3', '2.0', 'x', ''].map(normalizeVersion),
      ['1.0', '1.0', '1.1', '1.1', '1.2', '1.2', '1.2', '1.2', '1.0', '1.0']);
  });

  test('1.0.2 6.4: TLV is the only mandatory client format', () => {
    assert.deepEqual(mandatoryFormats('1.0'), [CF.TLV]);
    assert.deepEqual(recommendedFormats('1.0'), []);
  });

  test('1.1 / 1.2 7.4: plain text, opaque, CoRE link mandatory; SenML CBOR or JSON recommended', () => {
    for (const v of ['1.1', '1.2']) {
      assert.deepEqual(mandatoryFormats(v), [CF.TEXT, CF.OPAQUE, CF.LINK]);
      assert.deepEqual(recommendedFormats(v), [CF.SENML_CBOR, CF.SENML_JSON]);
    }
  });

  test('formats able to carry each kind of request', () => {
    assert.deepEqual(formatsFor('composite', '1.0'), []);
    assert.deepEqual(formatsFor('composite', '1.1'), [CF.SENML_CBOR, CF.SENML_JSON]);
    assert.deepEqual(formatsFor('composite', '1.2'), [CF.SENML_CBOR, CF.SENML_JSON]);
    assert.ok(!formatsFor('multi', '1.1').includes(CF.TEXT));
    assert.ok(!formatsFor('multi', '1.1').includes(CF.LWM2M_CBOR));
    assert.ok(formatsFor('multi', '1.2').includes(CF.LWM2M_CBOR));
    assert.ok(!formatsFor('single', '1.0').includes(CF.CBOR));
    assert.ok(formatsFor('single', '1.1').includes(CF.CBOR));
    assert.ok(!formatsFor('single', '1.1', 'integer').includes(CF.OPAQUE));
  });
});

describe('choosing and falling back', () => {
  // [version, kind, resourceType, ct, expected order]
  const table: Array<[string, 'single' | 'multi' | 'composite', string | undefined, number[] | undefined, number[]]> = [
    ['1.0', 'single', 'integer', undefined, [CF.TLV, CF.TEXT, CF.LWM2M_JSON]],
    ['1.0', 'single', 'opaque', undefined, [CF.TLV, CF.OPAQUE, CF.LWM2M_JSON]],
    ['1.0', 'multi', undefined, undefined, [CF.TLV, CF.LWM2M_JSON]],
    ['1.0', 'multi', undefined, [CF.OLD_TLV], [CF.OLD_TLV, CF.LWM2M_JSON]],
    ['1.0', 'multi', undefined, [CF.OLD_JSON], [CF.TLV, CF.OLD_JSON]],
    ['1.0', 'single', 'string', [CF.LWM2M_JSON], [CF.TLV, CF.LWM2M_JSON, CF.TEXT]],
    ['1.1', 'single', 'integer', undefined, [CF.TEXT, CF.SENML_CBOR, CF.SENML_JSON, CF.CBOR, CF.TLV, CF.LWM2M_JSON]],
    ['1.1', 'single', 'opaque', undefined, [CF.OPAQUE, CF.TEXT, CF.SENML_CBOR, CF.SENML_JSON, CF.CBOR, CF.TLV, CF.LWM2M_JSON]],
    ['1.1', 'multi', undefined, undefined, [CF.SENML_CBOR, CF.SENML_JSON, CF.TLV, CF.LWM2M_JSON]],
    ['1.1', 'multi', undefined, [CF.SENML_JSON], [CF.SENML_JSON, CF.SENML_CBOR, CF.TLV, CF.LWM2M_JSON]],
    ['1.1', 'multi', undefined, [CF.TLV], [CF.TLV, CF.SENML_CBOR, CF.SENML_JSON, CF.LWM2M_JSON]],
    ['1.1', 'composite', undefined, [CF.SENML_JSON], [CF.SENML_JSON, CF.SENML_CBOR]],
    ['1.2', 'multi', undefined, undefined, [CF.SENML_CBOR, CF.SENML_JSON, CF.LWM2M_CBOR, CF.TLV, CF.LWM2M_JSON]],
    ['1.2', 'multi', undefined, [CF.LWM2M_CBOR, CF.SENML_CBOR], [CF.LWM2M_CBOR, CF.SENML_CBOR, CF.SENML_JSON, CF.TLV, CF.LWM2M_JSON]],
    ['1.2', 'single', 'float', [CF.CBOR], [CF.TEXT, CF.CBOR, CF.SENML_CBOR, CF.SENML_JSON, CF.LWM2M_CBOR, CF.TLV, CF.LWM2M_JSON]],
    ['1.2', 'composite', undefined, undefined, [CF.SENML_CBOR, CF.SENML_JSON]],
  ];
  for (const [version, kind, type, ct, expected] of table) {
    test(`${version} ${kind}${type ? ` (${type})` : ''}${ct ? ` ct=${ct.join(' ')}` : ''}`, () => {
      const q = { version, kind, resourceType: type as never, ct };
      assert.deepEqual(fallbackFormats(q), expected);
      assert.equal(chooseFormat(q), expected[0]);
    });
  }

  test('excluded formats (after 4.06 / 4.15) are skipped, twins included', () => {
    assert.equal(chooseFormat({ version: '1.1', kind: 'multi', exclude: [CF.SENML_CBOR] }), CF.SENML_JSON);
    assert.equal(chooseFormat({ version: '1.1', kind: 'multi', exclude: [CF.SENML_CBOR, CF.SENML_JSON] }), CF.TLV);
    assert.deepEqual(fallbackFormats({ version: '1.0', kind: 'multi', ct: [CF.OLD_TLV], exclude: [CF.TLV] }), [CF.LWM2M_JSON]);
  });

  test('no possible format is a typed error', () => {
    assert.throws(() => chooseFormat({ version: '1.0', kind: 'composite' }), (e: unknown) => e instanceof Lwm2mError && e.code === 'NO_FORMAT');
    assert.throws(() => chooseFormat({ version: '1.1', kind: 'composite', exclude: [CF.SENML_CBOR, CF.SENML_JSON] }),
      (e: unknown) => e instanceof Lwm2mError && e.code === 'NO_FORMAT');
  });
});
