/**
 * What the sidebar remembers per device stays bounded: the log ring, the known values, the number of devices.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceState, DeviceStates, Ring, wireEntry } from '../../nodes/lwm2m-sidebar/device-state';

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
