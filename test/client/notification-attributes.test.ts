import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath } from '../../src/model/path';
import {
  AttributeStore, parseAttributeQuery, valueConditionMet, formatAttributes, effectivePeriods,
} from '../../src/client/attributes';
import { ObservationManager, ObservationOwner, Observation } from '../../src/client/observe';
import { ManualScheduler, Scheduler, Task } from '../../src/client/scheduler';
import { CoapResponse } from '../../src/coap/types';
import { CancelledError, CoapResponseError } from '../../src/errors';
import { ResourceDef } from '../../src/model/types';

const P = (s: string) => Lwm2mPath.parse(s);
const floatDef: ResourceDef = { id: 5700, name: 'Sensor Value', operations: 'R', multiple: false, mandatory: true, type: 'float' };
const stringDef: ResourceDef = { id: 5701, name: 'Units', operations: 'R', multiple: false, mandatory: false, type: 'string' };
const boolDef: ResourceDef = { id: 5500, name: 'State', operations: 'R', multiple: false, mandatory: true, type: 'boolean' };

describe('parseAttributeQuery', () => {
  test('parses values and removals', () => {
    const c = parseAttributeQuery(['pmin=10', 'pmax=60', 'gt=20.5', 'lt=-3', 'st=0.5', 'epmin', 'epmax=']);
    assert.deepEqual(c.set, { pmin: 10, pmax: 60, gt: 20.5, lt: -3, st: 0.5 });
    assert.deepEqual(c.unset, ['epmin', 'epmax']);
  });
  test('refuses unknown, malformed, duplicated, property and too-new attributes with 4.00', () => {
    for (const q of [['foo=1'], ['pmin=abc'], ['pmin=-1'], ['pmin=1.5'], ['gt=1e999'], ['pmin=1', 'pmin=2'], ['dim=2'],
      ['ver=1.1'], ['st=-1'], ['edge=2'], ['con=yes']]) {
      assert.throws(() => parseAttributeQuery(q), (e: unknown) => e instanceof CoapResponseError && e.coapCode === '4.00', q.join('&'));
    }
    assert.throws(() => parseAttributeQuery(['epmin=1'], '1.0'), /needs LwM2M 1.1/);
    assert.throws(() => parseAttributeQuery(['edge=1'], '1.1'), /needs LwM2M 1.2/);
    assert.deepEqual(parseAttributeQuery(['edge=1'], '1.2').set, { edge: 1 });
  });
});

describe('AttributeStore', () => {
  test('inherits object -> instance -> resource, then the server defaults', () => {
    const s = new AttributeStore();
    s.write(P('/3303'), parseAttributeQuery(['pmin=5', 'pmax=100']));
    s.write(P('/3303/0'), parseAttributeQuery(['pmax=50']));
    s.write(P('/3303/0/5700'), parseAttributeQuery(['gt=30']), floatDef);
    assert.deepEqual(s.effective(P('/3303/0/5700'), { pmin: 1, pmax: 300 }), { pmin: 5, pmax: 50, gt: 30 });
    assert.deepEqual(s.effective(P('/3303/1/5700'), { pmax: 300 }), { pmin: 5, pmax: 100 });
    assert.deepEqual(s.effective(P('/3303/0')), { pmin: 5, pmax: 50 });
    assert.deepEqual(s.effective(P('/3'), { pmin: 1, pmax: 300 }), { pmin: 1, pmax: 300 });
    assert.equal(formatAttributes(s.get('/3303/0/5700')), ';gt=30');
  });
  test('removes an attribute given without value', () => {
    const s = new AttributeStore();
    s.write(P('/3/0'), parseAttributeQuery(['pmin=5', 'pmax=10']));
    s.write(P('/3/0'), parseAttributeQuery(['pmin']));
    assert.deepEqual(s.get('/3/0'), { pmax: 10 });
    s.write(P('/3/0'), parseAttributeQuery(['pmax']));
    assert.equal(s.get('/3/0'), undefined);
    assert.equal(s.size, 0);
  });
  test('numeric conditions only on numeric resources, only at resource level', () => {
    const s = new AttributeStore();
    assert.throws(() => s.write(P('/3303/0/5701'), parseAttributeQuery(['gt=1']), stringDef), /numeric resources only/);
    assert.throws(() => s.write(P('/3303/0'), parseAttributeQuery(['st=1'])), /cannot be attached/);
    assert.throws(() => s.write(P('/3303'), parseAttributeQuery(['lt=1'])), /cannot be attached/);
    assert.throws(() => s.write(P('/3303/0/5700'), parseAttributeQuery(['edge=1']), floatDef), /boolean resources only/);
    s.write(P('/3303/0/5500'), parseAttributeQuery(['edge=1']), boolDef);
    assert.throws(() => s.write(P('/3/0/7/1'), parseAttributeQuery(['pmin=1']), undefined, '1.1'), /need LwM2M 1.2/);
  });
  test('lt < gt and lt + 2*st < gt; a failed write changes nothing', () => {
    const s = new AttributeStore();
    s.write(P('/3303/0/5700'), parseAttributeQuery(['gt=10', 'lt=0']), floatDef);
    assert.throws(() => s.write(P('/3303/0/5700'), parseAttributeQuery(['st=5']), floatDef), /2 \* "st"/);
    assert.throws(() => s.write(P('/3303/0/5700'), parseAttributeQuery(['lt=10']), floatDef), /less than "gt"/);
    assert.deepEqual(s.get('/3303/0/5700'), { gt: 10, lt: 0 });
    s.write(P('/3303/0/5700'), parseAttributeQuery(['st=4.5']), floatDef);
    assert.deepEqual(s.get('/3303/0/5700'), { gt: 10, lt: 0, st: 4.5 });
    assert.throws(() => s.write(P('/3303/0'), parseAttributeQuery(['epmin=10', 'epmax=5'])), /epmin/);
  });
  test('pmax below pmin is ignored when running, not refused', () => {
    assert.deepEqual(effectivePeriods({ pmin: 10, pmax: 5 }), { pminMs: 10000, pmaxMs: undefined, epminMs: 0, epmaxMs: undefined });
    assert.deepEqual(effectivePeriods({ pmin: 10, pmax: 20 }), { pminMs: 10000, pmaxMs: 20000, epminMs: 0, epmaxMs: undefined });
  });
});

describe('valueConditionMet', () => {
  test('gt and lt fire on crossing, in either direction', () => {
    const a = { gt: 20 };
    assert.equal(valueConditionMet(a, 19, 21), true);
    assert.equal(valueConditionMet(a, 21, 19), true);
    assert.equal(valueConditionMet(a, 21, 25), false);
    assert.equal(valueConditionMet(a, 10, 15), false);
    assert.equal(valueConditionMet({ lt: 0 }, 1, -1), true);
    assert.equal(valueConditionMet({ lt: 0 }, -1, -5), false);
  });
  test('st fires on a step since the last notified value', () => {
    assert.equal(valueConditionMet({ st: 2 }, 10, 11.9), false);
    assert.equal(valueConditionMet({ st: 2 }, 10, 12), true);
    assert.equal(valueConditionMet({ st: 2 }, 10, 8), true);
  });
  test('no condition: any change; booleans and edge', () => {
    assert.equal(valueConditionMet({}, 1, 1), false);
    assert.equal(valueConditionMet({}, 1, 2), true);
    assert.equal(valueConditionMet({}, 'a', 'b'), true);
    assert.equal(valueConditionMet({ edge: 1 }, false, true), true);
    assert.equal(valueConditionMet({ edge: 1 }, true, false), false);
    assert.equal(valueConditionMet({ edge: 0 }, true, false), true);
  });
});

describe('Scheduler', () => {
  test('runs tasks in due order, reschedules and cancels without duplicates', () => {
    const s = new ManualScheduler(0);
    const ran: string[] = [];
    const a = new Task(() => ran.push('a'));
    const b = new Task(() => ran.push('b'));
    const c = new Task(() => ran.push('c'));
    s.scheduleAt(a, 30); s.scheduleAt(b, 10); s.scheduleAt(c, 20);
    s.scheduleAt(a, 5); // move earlier
    s.cancel(c);
    assert.equal(s.size, 2);
    s.advance(100);
    assert.deepEqual(ran, ['a', 'b']);
    assert.equal(s.size, 0);
    assert.equal(a.scheduled, false);
  });
  test('a real scheduler fires through one timer, in due order, never early', async () => {
    const s = new Scheduler();
    const runs: { due: number; at: number }[] = [];
    // the scheduler's timer is unref'd (sockets keep a running client alive): hold the loop for the test
    const keepAlive = setTimeout(() => undefined, 10_000);
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 50; i++) {
        const t = new Task(() => { runs.push({ due, at: Date.now() }); if (runs.length === 50) resolve(); });
        const due = Date.now() + ((i * 7) % 20);
        s.scheduleAt(t, due);
      }
    });
    clearTimeout(keepAlive);
    assert.equal(runs.length, 50);
    for (let i = 0; i < runs.length; i++) {
      assert.ok(runs[i].at >= runs[i].due, 'never early');
      if (i > 0) assert.ok(runs[i].due >= runs[i - 1].due, 'in due order');
    }
    s.close();
  });
  test('heap stays ordered under random churn', () => {
    const s = new ManualScheduler(0);
    const tasks: Task[] = [];
    const fired: number[] = [];
    let seed = 42;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let i = 0; i < 500; i++) tasks.push(new Task(() => fired.push(s.now())));
    for (let i = 0; i < 3000; i++) {
      const t = tasks[rnd() % tasks.length];
      if (rnd() % 5 === 0) s.cancel(t); else s.scheduleAt(t, rnd() % 10000);
    }
    const expected = tasks.filter((t) => t.scheduled).map((t) => t.due).sort((x, y) => x - y);
    s.advance(20000);
    assert.deepEqual(fired, expected);
  });
});

/** A host on a manual clock: values live in a map, notifications are recorded. */
function harness(opts: { defaults?: { pmin?: number; pmax?: number } } = {}) {
  const scheduler = new ManualScheduler(0);
  const values = new Map<string, unknown>();
  const sent: { at: number; value: unknown; res: CoapResponse; con: boolean }[] = [];
  let rst = false;
  const owner: ObservationOwner = {
    attributes: new AttributeStore(),
    attributeDefaults: () => opts.defaults ?? {},
    confirmableNotifications: false,
  };
  const mgr = new ObservationManager(scheduler, {
    render: async (o: Observation) => ({ code: values.has(o.paths[0].toString()) ? '2.05' : '4.04', payload: Buffer.from(String(values.get(o.paths[0].toString()))) }),
    currentValue: (p) => values.get(p.toString()),
    notify: async (_o, res, con) => {
      if (rst) throw new CancelledError('notification');
      sent.push({ at: scheduler.now(), value: res.payload?.toString(), res, con });
    },
  });
  const set = async (path: string, v: unknown) => {
    values.set(path, v);
    mgr.changed(P(path));
    await flush();
  };
  const advance = async (ms: number) => {
    // move from due time to due time, letting async sends complete in between
    const end = scheduler.now() + ms;
    for (;;) {
      const next = scheduler.peekDue();
      if (next === undefined || next > end) break;
      scheduler.set(Math.max(next, scheduler.now()));
      await flush();
      await flush();
    }
    scheduler.set(end);
    await flush();
  };
  return { scheduler, values, sent, owner, mgr, set, advance, setRst: (v: boolean) => { rst = v; } };
}
const flush = () => new Promise<void>((r) => setImmediate(r));
const peer = { address: '127.0.0.1', port: 5683 };
const tok = (n: number) => Buffer.from([n]);

describe('ObservationManager (driven clock)', () => {
  test('no attributes: each change notifies at once', async () => {
    const h = harness();
    h.values.set('/3303/0/5700', 1);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    await h.set('/3303/0/5700', 2);
    await h.set('/3303/0/5700', 3);
    await h.set('/3303/0/5700', 3.5);
    assert.deepEqual(h.sent.map((s) => s.value), ['2', '3', '3.5']);
    // Observe sequence numbers increase
    assert.deepEqual(h.sent.map((s) => s.res.observe), [1, 2, 3]);
    // a change elsewhere does not notify
    await h.set('/3303/1/5700', 9);
    assert.equal(h.sent.length, 3);
  });

  test('pmin holds notifications back and sends the latest value once', async () => {
    const h = harness();
    h.owner.attributes.write(P('/3303/0/5700'), parseAttributeQuery(['pmin=10']), floatDef);
    h.values.set('/3303/0/5700', 1);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    await h.advance(2000);
    await h.set('/3303/0/5700', 2);
    await h.advance(1000);
    await h.set('/3303/0/5700', 3);
    assert.equal(h.sent.length, 0);
    await h.advance(6900); // t = 9.9 s
    assert.equal(h.sent.length, 0);
    await h.advance(200);
    assert.deepEqual(h.sent.map((s) => [s.at, s.value]), [[10000, '3']]);
  });

  test('pmax forces a notification without change, and restarts after each notification', async () => {
    const h = harness();
    h.owner.attributes.write(P('/3303/0'), parseAttributeQuery(['pmax=30']));
    h.values.set('/3303/0/5700', 1);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    await h.advance(29900);
    assert.equal(h.sent.length, 0);
    await h.advance(200);
    assert.deepEqual(h.sent.map((s) => s.at), [30000]);
    await h.advance(9900);
    await h.set('/3303/0/5700', 2); // t = 40 s: sent now, so next pmax at 70 s
    await h.advance(29800);
    assert.deepEqual(h.sent.map((s) => s.at), [30000, 40000]);
    await h.advance(400);
    assert.deepEqual(h.sent.map((s) => s.at), [30000, 40000, 70000]);
  });

  test('server default pmax applies when no attribute is written', async () => {
    const h = harness({ defaults: { pmax: 5 } });
    h.values.set('/3/0/9', 80);
    h.mgr.add(h.owner, tok(2), peer, [P('/3/0/9')], false, 0);
    await h.advance(5100);
    assert.equal(h.sent.length, 1);
  });

  test('gt/lt notify on crossing only; st on a step since the last notified value', async () => {
    const h = harness();
    h.owner.attributes.write(P('/3303/0/5700'), parseAttributeQuery(['gt=25', 'lt=10']), floatDef);
    h.values.set('/3303/0/5700', 20);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    await h.set('/3303/0/5700', 22);
    await h.set('/3303/0/5700', 24.9);
    assert.equal(h.sent.length, 0);
    await h.set('/3303/0/5700', 26); // crosses gt upwards
    await h.set('/3303/0/5700', 30); // stays above
    await h.set('/3303/0/5700', 15); // crosses gt downwards
    await h.set('/3303/0/5700', 9); // crosses lt
    assert.deepEqual(h.sent.map((s) => s.value), ['26', '15', '9']);

    const k = harness();
    k.owner.attributes.write(P('/3303/0/5700'), parseAttributeQuery(['st=2']), floatDef);
    k.values.set('/3303/0/5700', 10);
    k.mgr.add(k.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    await k.set('/3303/0/5700', 11);
    await k.set('/3303/0/5700', 11.9);
    assert.equal(k.sent.length, 0);
    await k.set('/3303/0/5700', 12.1); // 2.1 from the last notified value (10)
    await k.set('/3303/0/5700', 13); // 0.9 from 12.1
    await k.set('/3303/0/5700', 14.1);
    assert.deepEqual(k.sent.map((s) => s.value), ['12.1', '14.1']);
  });

  test('conditions and pmin together: a crossing inside pmin is sent when pmin ends', async () => {
    const h = harness();
    h.owner.attributes.write(P('/3303/0/5700'), parseAttributeQuery(['pmin=5', 'gt=25']), floatDef);
    h.values.set('/3303/0/5700', 20);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    await h.advance(1000);
    await h.set('/3303/0/5700', 30);
    await h.advance(3000);
    assert.equal(h.sent.length, 0);
    await h.advance(1100);
    assert.deepEqual(h.sent.map((s) => [s.at, s.value]), [[5000, '30']]);
  });

  test('instance observation: numeric conditions of a resource do not apply', async () => {
    const h = harness();
    h.owner.attributes.write(P('/3303/0/5700'), parseAttributeQuery(['gt=100']), floatDef);
    h.values.set('/3303/0', 'x');
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0')], false, 0);
    await h.set('/3303/0/5700', 1);
    assert.equal(h.sent.length, 1);
  });

  test('write-attributes on a running observation takes effect', async () => {
    const h = harness();
    h.values.set('/3303/0/5700', 1);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    h.owner.attributes.write(P('/3303/0/5700'), parseAttributeQuery(['pmax=2']), floatDef);
    h.mgr.attributesChanged(h.owner, P('/3303/0/5700'));
    await h.advance(2100);
    assert.equal(h.sent.length, 1);
  });

  test('epmax samples values so conditions are checked without pushes', async () => {
    const h = harness();
    h.owner.attributes.write(P('/3303/0/5700'), parseAttributeQuery(['epmax=3', 'st=5']), floatDef);
    h.values.set('/3303/0/5700', 0);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    h.values.set('/3303/0/5700', 2); // silently (no change event): only sampling can see it
    await h.advance(3100);
    assert.equal(h.sent.length, 0);
    h.values.set('/3303/0/5700', 7);
    await h.advance(3000);
    assert.deepEqual(h.sent.map((s) => [s.at, s.value]), [[6000, '7']]);
  });

  test('a deleted target gets a final 4.04 and the observation ends; RST ends it too', async () => {
    const h = harness();
    h.values.set('/3303/0/5700', 1);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700')], false, 0);
    h.values.delete('/3303/0/5700');
    h.mgr.changed(P('/3303/0'), 'delete');
    await flush();
    assert.deepEqual(h.sent.map((s) => s.res.code), ['4.04']);
    assert.equal(h.mgr.size, 0);

    const k = harness();
    k.values.set('/1/0/1', 1);
    k.mgr.add(k.owner, tok(3), peer, [P('/1/0/1')], false, 0);
    k.setRst(true);
    await k.set('/1/0/1', 2);
    assert.equal(k.mgr.size, 0);
    assert.equal(k.scheduler.size, 0);
  });

  test('non-confirmable notifications, but one confirmable at least every 24 h (RFC 7641 4.5); con=1 forces them', async () => {
    const h = harness();
    h.owner.attributes.write(P('/3/0'), parseAttributeQuery(['pmax=3600']));
    h.values.set('/3/0/9', 1);
    h.mgr.add(h.owner, tok(1), peer, [P('/3/0/9')], false, 0);
    for (let i = 0; i < 25; i++) await h.advance(3_600_000);
    assert.equal(h.sent.length, 25);
    assert.deepEqual(h.sent.map((s, i) => (s.con ? i : -1)).filter((i) => i >= 0), [23]);
    const k = harness();
    k.owner.attributes.write(P('/3/0/9'), parseAttributeQuery(['con=1']));
    k.values.set('/3/0/9', 1);
    k.mgr.add(k.owner, tok(1), peer, [P('/3/0/9')], false, 0);
    await k.set('/3/0/9', 2);
    assert.equal(k.sent[0].con, true);
  });

  test('cancel removes the observation and its scheduled work', () => {
    const h = harness();
    h.owner.attributes.write(P('/3'), parseAttributeQuery(['pmax=10']));
    h.values.set('/3/0/0', 'x');
    h.mgr.add(h.owner, tok(9), peer, [P('/3/0/0')], false, 0);
    assert.equal(h.scheduler.size, 1);
    assert.equal(h.mgr.cancel(h.owner, tok(9)), true);
    assert.equal(h.mgr.cancel(h.owner, tok(9)), false);
    assert.equal(h.scheduler.size, 0);
    assert.equal(h.mgr.size, 0);
  });

  test('composite: a change on any path notifies, with the smallest pmin', async () => {
    const h = harness();
    h.owner.attributes.write(P('/3303/0/5700'), parseAttributeQuery(['pmin=4']), floatDef);
    h.owner.attributes.write(P('/3/0/9'), parseAttributeQuery(['pmin=2']));
    h.values.set('/3303/0/5700', 1); h.values.set('/3/0/9', 1);
    h.mgr.add(h.owner, tok(1), peer, [P('/3303/0/5700'), P('/3/0/9')], true, 112);
    await h.set('/3/0/9', 50);
    assert.equal(h.sent.length, 0);
    await h.advance(2100);
    assert.equal(h.sent.length, 1);
  });
});
