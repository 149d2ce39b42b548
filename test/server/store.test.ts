import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRegistrationStore } from '../../src/server/store';
import { DeadlineQueue } from '../../src/server/deadline-queue';
import { Registration } from '../../src/server/registration';
import { Observation } from '../../src/server/observation';

function reg(ep: string, id: string, port = 1000, over: Partial<Registration> = {}): Registration {
  return {
    id, endpoint: ep, version: '1.1', lifetime: 60, binding: 'U', queueMode: false, address: '10.0.0.1', port, family: 'IPv4',
    transport: 'coap', secure: false, security: 'nosec', rootPath: '/', objectLinks: '3:0', registeredAt: 0, lastUpdateAt: 0,
    expiresAt: 60_000, ...over,
  };
}

function obs(token: string, registrationId: string, paths: string[], composite = false): Observation {
  return { id: token, token, endpoint: 'x', registrationId, paths, composite, createdAt: 0 };
}

describe('MemoryRegistrationStore', () => {
  test('indexes by id, endpoint and address; replacement by endpoint drops the old observations', () => {
    const s = new MemoryRegistrationStore();
    assert.equal(s.add(reg('a', 'r1', 1000)), undefined);
    s.addObservation(obs('t1', 'r1', ['/3/0/9']));
    assert.equal(s.getById('r1')?.endpoint, 'a');
    assert.equal(s.getByEndpoint('a')?.id, 'r1');
    assert.equal(s.getByAddress('10.0.0.1', 1000, 'coap')?.id, 'r1');
    assert.equal(s.getByAddress('10.0.0.1', 1000)?.id, 'r1');
    assert.equal(s.getByAddress('10.0.0.1', 1000, 'coaps'), undefined);
    const out = s.add(reg('a', 'r2', 1001));
    assert.equal(out?.registration.id, 'r1');
    assert.deepEqual(out?.observations.map((o) => o.token), ['t1']);
    assert.equal(s.getById('r1'), undefined);
    assert.equal(s.getByAddress('10.0.0.1', 1000, 'coap'), undefined);
    assert.equal(s.getObservation('t1'), undefined);
    assert.equal(s.size, 1);
    assert.equal(s.observationCount, 0);
  });

  test('update moves the address index; remove returns observations', () => {
    const s = new MemoryRegistrationStore();
    s.add(reg('a', 'r1', 1000));
    s.add(reg('b', 'r2', 2000));
    s.update('r1', { port: 3000, lifetime: 5 });
    assert.equal(s.getByAddress('10.0.0.1', 1000, 'coap'), undefined);
    assert.equal(s.getByAddress('10.0.0.1', 3000, 'coap')?.id, 'r1');
    assert.equal(s.getById('r1')?.lifetime, 5);
    assert.equal(s.update('nope', { port: 1 }), undefined);
    // b moves onto the address a left: a's old key is not b's
    s.update('r2', { port: 1000 });
    s.update('r1', { port: 4000 });
    assert.equal(s.getByAddress('10.0.0.1', 1000, 'coap')?.id, 'r2');
    s.addObservation(obs('t1', 'r2', ['/3/0/1']));
    s.addObservation(obs('t2', 'r2', ['/3/0/2']));
    const rm = s.remove('r2');
    assert.deepEqual(rm?.observations.map((o) => o.token).sort(), ['t1', 't2']);
    assert.equal(s.remove('r2'), undefined);
    assert.equal(s.getByAddress('10.0.0.1', 1000, 'coap'), undefined);
  });

  test('an observation of the same paths replaces the older one; unknown registrations are refused', () => {
    const s = new MemoryRegistrationStore();
    s.add(reg('a', 'r1'));
    assert.deepEqual(s.addObservation(obs('t1', 'r1', ['/3/0/9'])), []);
    assert.deepEqual(s.addObservation(obs('t2', 'r1', ['/3/0/10'])), []);
    assert.deepEqual(s.addObservation(obs('t3', 'r1', ['/3/0/9'])).map((o) => o.token), ['t1']);
    assert.deepEqual(s.addObservation(obs('t4', 'r1', ['/3/0/9', '/1/0/1'], true)), []);
    assert.deepEqual(s.addObservation(obs('t5', 'r1', ['/1/0/1', '/3/0/9'], true)).map((o) => o.token), ['t4']);
    assert.deepEqual(s.observationsOf('r1').map((o) => o.token).sort(), ['t2', 't3', 't5']);
    assert.deepEqual(s.addObservation(obs('t9', 'nope', ['/3/0/9'])), []);
    assert.equal(s.getObservation('t9'), undefined);
    assert.equal(s.removeObservation('t2')?.token, 't2');
    assert.equal(s.removeObservation('t2'), undefined);
    assert.equal(s.observationCount, 2);
  });
});

describe('DeadlineQueue', () => {
  test('delivers in deadline order with one timer; items pushed while delivering are handled', async () => {
    const got: string[] = [];
    let q!: DeadlineQueue<string>;
    q = new DeadlineQueue<string>((item, now) => {
      got.push(item);
      if (item === 'b') q.push(now, 'b-again');
    });
    const t0 = Date.now();
    q.push(t0 + 60, 'c');
    q.push(t0 + 20, 'a');
    q.push(t0 + 40, 'b');
    q.push(t0 + 60, 'd');
    assert.equal(q.size, 4);
    assert.equal(q.peek(), t0 + 20);
    await new Promise((r) => setTimeout(r, 150));
    // Deadline order, whatever the load: 'b-again' is due at the moment 'b' was delivered, so on a loaded machine
    // (timer late) it may rightly come after 'c' and 'd' when those were already due then.
    assert.deepEqual([...got].sort(), ['a', 'b', 'b-again', 'c', 'd']);
    const at = (x: string): number => got.indexOf(x);
    assert.ok(at('a') < at('b') && at('b') < at('c') && at('b') < at('d') && at('b') < at('b-again'), got.join(','));
    assert.equal(q.size, 0);
    q.close();
  });

  test('heap order holds for many random entries; filter and close', () => {
    const q = new DeadlineQueue<number>(() => undefined);
    const times: number[] = [];
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const base = Date.now() + 1e9;
    for (let i = 0; i < 5000; i++) {
      const t = base + (rnd() % 100000);
      times.push(t);
      q.push(t, i);
    }
    assert.equal(q.peek(), Math.min(...times));
    q.filter((item) => item % 2 === 0);
    assert.equal(q.size, times.filter((_, i) => i % 2 === 0).length);
    assert.equal(q.peek(), Math.min(...times.filter((_, i) => i % 2 === 0)));
    q.close();
    assert.equal(q.size, 0);
    q.push(base, 1);
    assert.equal(q.size, 0, 'closed queue takes nothing');
  });

  test('due entries come out in deadline order', async () => {
    const got: number[] = [];
    const q = new DeadlineQueue<number>((t) => got.push(t));
    let seed = 7;
    const now = Date.now();
    for (let i = 0; i < 3000; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const t = now - 100000 + (seed % 100000);
      q.push(t, t);
    }
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, 3000);
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1] <= got[i], `order at ${i}`);
    q.close();
  });
});
