/**
 * The data the virtual devices hold: a Device object instance (/3/0, OMA TS Core Appendix E.4) and the payloads the
 * load side answers with, encoded once per content format with the project's codecs.
 */
import { encode, SUPPORTED_FORMATS } from '../../src/content/index';
import { Lwm2mRecord } from '../../src/content/values';
import { Lwm2mPath } from '../../src/model/path';
import { ModelRegistry } from '../../src/model/registry';
import type { PayloadTable } from '../load/responder';

export const registry = ModelRegistry.withBuiltins();

/** The readable resources of a typical /3/0: strings, integers, a multiple resource, a time. */
export function deviceRecords(battery = 87): Lwm2mRecord[] {
  const p = (s: string): Lwm2mPath => Lwm2mPath.parse(s);
  return [
    { path: p('/3/0/0'), value: 'Fleetwire Bench Inc.' },
    { path: p('/3/0/1'), value: 'BENCH-1000' },
    { path: p('/3/0/2'), value: 'SN-00000001' },
    { path: p('/3/0/3'), value: '1.4.2' },
    { path: p('/3/0/6/0'), value: 1 },
    { path: p('/3/0/6/1'), value: 5 },
    { path: p('/3/0/7/0'), value: 3800 },
    { path: p('/3/0/7/1'), value: 5000 },
    { path: p('/3/0/9'), value: battery },
    { path: p('/3/0/10'), value: 15 },
    { path: p('/3/0/11/0'), value: 0 },
    { path: p('/3/0/13'), value: new Date(1_700_000_000_000) },
    { path: p('/3/0/14'), value: '+01' },
    { path: p('/3/0/15'), value: 'Europe/Berlin' },
    { path: p('/3/0/16'), value: 'U' },
  ];
}

function encodeAll(path: string, records: Lwm2mRecord[]): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const f of SUPPORTED_FORMATS) {
    try {
      out.set(f, encode(f, records, { registry, path: Lwm2mPath.parse(path) }));
    } catch {
      // this format cannot carry these records (text for an instance...): the device will answer 4.06
    }
  }
  return out;
}

/**
 * `/3/0/0` (one string), `/3/0` (the instance) and `/3/0/9` (battery level; 50 values, so that notifications change).
 */
export function payloadTable(): PayloadTable {
  const table: PayloadTable = new Map();
  const single = (path: string, recs: Lwm2mRecord[][]): void => {
    const byFormat = new Map<number, Buffer[]>();
    for (const r of recs) for (const [f, b] of encodeAll(path, r)) {
      if (!byFormat.has(f)) byFormat.set(f, []);
      byFormat.get(f)!.push(b);
    }
    table.set(path, byFormat);
  };
  const all = deviceRecords();
  single('/3/0/0', [all.filter((r) => r.path.toString() === '/3/0/0')]);
  single('/3/0', [all]);
  const battery: Lwm2mRecord[][] = [];
  for (let v = 50; v < 100; v++) battery.push([{ path: Lwm2mPath.parse('/3/0/9'), value: v }]);
  single('/3/0/9', battery);
  return table;
}
