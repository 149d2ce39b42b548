/**
 * Codecs: encode and decode throughput of a /3/0 instance (15 values, 3 multiple resources) in TLV, SenML JSON,
 * SenML CBOR and LwM2M CBOR, in this process while nothing else runs. Baseline: JSON.stringify / JSON.parse of the
 * same values as a plain object (what the platform does natively).
 */
import { decode, encode } from '../../src/content/index';
import { ContentFormat } from '../../src/content/formats';
import { recordsToTree } from '../../src/content/tree';
import { Lwm2mPath } from '../../src/model/path';
import { deviceRecords, registry } from '../lib/device-data';
import { fmt } from '../lib/stats';
import { Ctx } from './context';

/** Calls `fn` in batches until `ms` have passed; ops/s. */
function opsPerSecond(ms: number, fn: () => unknown): number {
  let n = 0;
  let sink: unknown;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(ms * 1e6));
  let elapsed = 0n;
  do {
    for (let k = 0; k < 100; k++) sink = fn();
    n += 100;
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < limit);
  if (sink === Symbol.for('never')) console.log(sink);
  return n / (Number(elapsed) / 1e9);
}

const FORMATS: Array<[string, number]> = [
  ['TLV', ContentFormat.TLV],
  ['SenML JSON', ContentFormat.SENML_JSON],
  ['SenML CBOR', ContentFormat.SENML_CBOR],
  ['LwM2M CBOR', ContentFormat.LWM2M_CBOR],
];

export async function codecs(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('Codecs: encode / decode of a /3/0 instance');
  const path = Lwm2mPath.parse('/3/0');
  const records = deviceRecords();
  const opts = { registry, path };
  const plain = recordsToTree(path, records);
  const plainJson = JSON.stringify(plain);
  report.line(`${records.length} records; ${cfg.reps} × ${cfg.codecMs} ms per operation; sizes: ` +
    FORMATS.map(([name, f]) => `${name} ${encode(f, records, opts).length} B`).join(', ') + `, JSON ${Buffer.byteLength(plainJson)} B`);
  const run = (fn: () => unknown): number[] => {
    opsPerSecond(Math.min(50, cfg.codecMs), fn); // warm-up
    return Array.from({ length: cfg.reps }, () => opsPerSecond(cfg.codecMs, fn));
  };
  report.add({ key: 'codec.json.enc', name: 'baseline: JSON.stringify of the same values', unit: 'ops/s', values: run(() => JSON.stringify(plain)) });
  report.add({ key: 'codec.json.dec', name: 'baseline: JSON.parse of the same values', unit: 'ops/s', values: run(() => JSON.parse(plainJson)) });
  for (const [name, f] of FORMATS) {
    const bytes = encode(f, records, opts);
    const back = decode(f, bytes, opts);
    if (back.length !== records.length) report.note(`${name}: ${back.length} records decoded, ${records.length} encoded`);
    const key = `codec.${f}`;
    report.add({ key: `${key}.enc`, name: `encode /3/0 ${name}`, unit: 'ops/s', values: run(() => encode(f, records, opts)), baselineKey: 'codec.json.enc' });
    report.add({ key: `${key}.dec`, name: `decode /3/0 ${name}`, unit: 'ops/s', values: run(() => decode(f, bytes, opts)), baselineKey: 'codec.json.dec' });
  }
  report.line(`(${fmt(records.length)} values per operation)`);
}
