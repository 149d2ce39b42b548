/**
 * What the sidebar remembers per device stays bounded: the log ring, the known values, the number of devices.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chartNumber, DeviceState, DeviceStates, Ring, Series, wireEntry } from '../../nodes/lwm2m-sidebar/device-state';

describe('device state', () => {
  test('the ring keeps the newest items in order', () => {
    const r = new Ring<number>(3);
    assert.deepEqual(r.toArray(), []);
    assert.equal(r.last(), undefined);
    for (let i = 1; i <= 7; i++) r.push(i);
    assert.deepEqual(r.toArray(), [5, 6, 7]);
    assert.equal(r.last(), 7);
    assert.equal(r.size, 3);
  });

  test('known values are bounded, updated in place and dropped with their instance', () => {
    const st = new DeviceState(10, 3);
    st.setValue('/3/0/0', 'a', 1);
    const kept = st.values.get('/3/0/0');
    st.setValue('/3/0/0', 'b', 2);
    assert.equal(st.values.get('/3/0/0'), kept, 'same slot');
    assert.deepEqual(kept, { value: 'b', t: 2 });
    st.setValue('/3/0/1', 'x', 3);
    st.setValue('/3303/0/5700', 1.5, 4);
    st.setValue('/3303/1/5700', 2.5, 5);
    assert.equal(st.values.size, 3);
    assert.equal(st.values.has('/3/0/0'), false, 'the oldest path went first');
    st.dropValuesUnder('/3303/1');
    assert.deepEqual([...st.values.keys()], ['/3/0/1', '/3303/0/5700']);
    st.dirtyPaths = new Set();
    st.setValue('/3/0/1', 'y', 6);
    assert.deepEqual([...st.dirtyPaths], ['/3/0/1']);
    assert.deepEqual(st.wireValues()['/3/0/1'], { v: 'y', t: 6 });
  });

  test('log entries are numbered across devices; entries from the device mark it as seen', () => {
    const states = new DeviceStates({ logSize: 2, maxDevices: 10 });
    const a = states.record('a', 100, { dir: 'out', kind: 'request', op: 'read', path: '/3/0/0' });
    const b = states.record('b', 200, { dir: 'in', kind: 'notify', path: '/3/0/9', value: 80 });
    assert.ok(b.seq > a.seq);
    assert.equal(states.get('a')!.lastSeen, 0, 'a request is not a sign of life');
    assert.equal(states.get('b')!.lastSeen, 200);
    assert.equal(wireEntry(b).text, '80');
    assert.equal(wireEntry({ ...a, render: () => 'rendered' }).text, 'rendered');
    states.record('a', 300, { dir: 'in', kind: 'response', op: 'read', text: 'x' });
    states.record('a', 400, { dir: 'in', kind: 'response', op: 'read', text: 'y' });
    assert.deepEqual(states.get('a')!.log.toArray().map((e) => e.text), ['x', 'y']);
  });

  test('the least recently active devices are forgotten first', () => {
    const states = new DeviceStates({ maxDevices: 3 });
    states.touch('a', 0);
    states.touch('b', 0);
    states.touch('c', 0);
    states.touch('a', 10_000); // active again: moves to the back
    states.touch('d', 10_000);
    assert.equal(states.size, 3);
    assert.equal(states.get('b'), undefined);
    assert.ok(states.get('a') && states.get('c') && states.get('d'));
  });
});

describe('charts of observed numbers', () => {
  test('a series keeps the newest points in order, bounded, and gives what followed a time', () => {
    const s = new Series(4);
    assert.deepEqual(s.points(), []);
    assert.equal(s.lastT(), 0);
    for (let i = 1; i <= 6; i++) s.push(i * 10, i / 2);
    assert.equal(s.size, 4);
    assert.deepEqual(s.points(), [[30, 1.5], [40, 2], [50, 2.5], [60, 3]]);
    assert.deepEqual(s.points(40), [[50, 2.5], [60, 3]]);
    assert.equal(s.lastT(), 60);
  });

  test('only numbers are charted; charts per device are bounded and dropped with their instance', () => {
    const st = new DeviceState(10, 100, 2, 3);
    st.addPoint('/3303/0/5701', 'Cel', 1);
    st.addPoint('/3311/0/5850', true, 1);
    st.addPoint('/3303/0/5700', Number.NaN, 1);
    assert.equal(st.series.size, 0, 'strings, booleans and NaN have no chart');
    st.addPoint('/3303/0/5700', 20.5, 1);
    st.addPoint('/3303/0/5700', 21, 2);
    st.addPoint('/3/0/13', 12345678901234567890n, 2);
    assert.deepEqual(st.wireSeries(), { '/3303/0/5700': [[1, 20.5], [2, 21]], '/3/0/13': [[2, 12345678901234567000]] });
    st.addPoint('/3304/0/5700', 40, 3);
    assert.deepEqual(Object.keys(st.wireSeries()), ['/3/0/13', '/3304/0/5700'], 'the oldest chart went first');
    st.dropValuesUnder('/3304/0');
    assert.deepEqual(Object.keys(st.wireSeries()), ['/3/0/13']);
    assert.equal(chartNumber(7), 7);
    assert.equal(chartNumber('7'), undefined);
  });

  test('charts can be turned off', () => {
    const states = new DeviceStates({ maxSeries: 0 });
    const st = states.touch('a', 1);
    st.addPoint('/3303/0/5700', 1, 1);
    assert.equal(st.series.size, 0);
  });
});
