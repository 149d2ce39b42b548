import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { validateBootstrapConfig } from '../../src/bootstrap/config';
import { BootstrapConfigError } from '../../src/bootstrap/errors';
import { bootstrapAccountCandidates, packRecords, parseBootstrapDiscover, planBootstrap } from '../../src/bootstrap/plan';
import { ModelRegistry } from '../../src/model/registry';
import { DecodeError } from '../../src/errors';

const registry = ModelRegistry.withBuiltins();
const s101 = { uri: 'coap://127.0.0.1:5683', shortServerId: 101 };
const s102 = { uri: 'coaps://127.0.0.1:5684', shortServerId: 102, identity: 'id', key: 'aabb' };

function plan(config: object, discover?: string) {
  return planBootstrap(validateBootstrapConfig(config), discover === undefined ? undefined : parseBootstrapDiscover(discover), registry);
}

describe('parseBootstrapDiscover', () => {
  test('reads version, accounts and objects (Core 1.1 6.1.7.3 example shape)', () => {
    const l = parseBootstrapDiscover('</>;lwm2m=1.1,</0/0>;ssid=101;uri="coaps://server_1.example.com",</0/1>,</0/2>;ssid=102;uri="coap://s2",</1/0>;ssid=101,</3/0>');
    assert.equal(l.version, '1.1');
    assert.deepEqual([...l.security.entries()], [[0, { ssid: 101, uri: 'coaps://server_1.example.com' }], [1, { ssid: undefined, uri: undefined }], [2, { ssid: 102, uri: 'coap://s2' }]]);
    assert.deepEqual([...l.server.entries()], [[0, { ssid: 101 }]]);
    assert.deepEqual([...l.objects].sort(), [0, 1, 3]);
    assert.deepEqual(bootstrapAccountCandidates(l), [1]);
  });

  test('1.2 version and a payload that is not link-format', () => {
    assert.equal(parseBootstrapDiscover('</>;lwm2m=1.2,</0/4>').version, '1.2');
    assert.throws(() => parseBootstrapDiscover('</a/b>'), DecodeError);
  });
});

describe('planBootstrap', () => {
  test('without Bootstrap-Discover: account assumed at /0/0, servers from /0/1 and /1/0', () => {
    const p = plan({ deleteFirst: true, servers: [s101, s102] });
    assert.deepEqual(p.deletes.map(String), ['/0', '/1']);
    assert.equal(p.bootstrapInstance, 0);
    assert.deepEqual(p.servers.map((s) => [s.securityInstance, s.serverInstance]), [[1, 0], [2, 1]]);
    assert.deepEqual(p.writes.map((w) => String(w.path)), ['/0/1', '/1/0', '/0/2', '/1/1']);
  });

  test('security and server records carry the account (Core 1.1 E.1, E.2)', () => {
    const p = plan({ servers: [{ ...s102, lifetime: 300, binding: 'UQ', notificationStoring: false, defaultMaxPeriod: 60 }] });
    const sec = new Map(p.writes[0].records.map((r) => [String(r.path), r.value]));
    assert.equal(sec.get('/0/1/0'), 'coaps://127.0.0.1:5684');
    assert.equal(sec.get('/0/1/1'), false);
    assert.equal(sec.get('/0/1/2'), 0); // PSK
    assert.deepEqual(sec.get('/0/1/3'), Buffer.from('id'));
    assert.deepEqual(sec.get('/0/1/4'), Buffer.alloc(0));
    assert.deepEqual(sec.get('/0/1/5'), Buffer.from('aabb', 'hex'));
    assert.equal(sec.get('/0/1/10'), 102);
    const srv = new Map(p.writes[1].records.map((r) => [String(r.path), r.value]));
    assert.deepEqual([...srv.entries()], [['/1/0/0', 102], ['/1/0/1', 300], ['/1/0/3', 60], ['/1/0/6', false], ['/1/0/7', 'UQ']]);
  });

  test('a Bootstrap-Server account at a non-zero instance is never written over', () => {
    const disc = '</>;lwm2m=1.1,</0/0>;ssid=7;uri="coap://old",</0/3>;uri="coap://bs",</1/0>;ssid=7';
    const keep = plan({ servers: [s101] }, disc);
    assert.equal(keep.bootstrapInstance, 3);
    assert.deepEqual(keep.servers.map((s) => [s.securityInstance, s.serverInstance]), [[1, 1]]);
    const wipe = plan({ deleteFirst: true, servers: [s101] }, disc);
    assert.deepEqual(wipe.servers.map((s) => [s.securityInstance, s.serverInstance]), [[0, 0]]);
    const many = plan({ deleteFirst: true, servers: [s101, s102, { uri: 'coap://c', shortServerId: 103 }, { uri: 'coap://d', shortServerId: 104 }] }, disc);
    assert.deepEqual(many.servers.map((s) => s.securityInstance), [0, 1, 2, 4]);
  });

  test('an existing account with the same short server id is overwritten in place', () => {
    const p = plan({ servers: [s101] }, '</>;lwm2m=1.1,</0/0>,</0/5>;ssid=101,</1/9>;ssid=101');
    assert.deepEqual(p.servers.map((s) => [s.securityInstance, s.serverInstance]), [[5, 9]]);
  });

  test('explicit ids win; an explicit id on the Bootstrap-Server account is refused', () => {
    const p = plan({ servers: [{ ...s101, securityInstanceId: 7, serverInstanceId: 8 }, s102] });
    assert.deepEqual(p.servers.map((s) => [s.securityInstance, s.serverInstance]), [[7, 8], [1, 0]]);
    assert.throws(() => plan({ servers: [{ ...s101, securityInstanceId: 2 }] }, '</>;lwm2m=1.1,</0/2>'), BootstrapConfigError);
    assert.throws(() => plan({ servers: [{ ...s101, securityInstanceId: 0 }] }), /Bootstrap-Server account/);
  });

  test('rewriting the Bootstrap-Server account targets the discovered instance', () => {
    const p = plan({ servers: [s101], bootstrapServer: { uri: 'coap://bs2:5685', clientHoldOffTime: 5 } }, '</>;lwm2m=1.1,</0/4>,</1>');
    assert.equal(String(p.writes[0].path), '/0/4');
    const rec = new Map(p.writes[0].records.map((r) => [String(r.path), r.value]));
    assert.equal(rec.get('/0/4/1'), true);
    assert.equal(rec.get('/0/4/11'), 5);
    assert.equal(rec.has('/0/4/10'), false);
    assert.deepEqual(p.servers.map((s) => s.securityInstance), [0]);
  });

  test('extra resources replace defaults; extra writes come last; pack holds every record', () => {
    const p = plan({
      servers: [{ ...s101, serverResources: { 7: 'T', 23: true } }],
      writes: [{ path: '/2/0', value: { 0: 1, 1: 0, 3: 101 } }],
    });
    const srv = p.writes[1].records.map((r) => [String(r.path), r.value]);
    assert.deepEqual(srv.filter(([k]) => k === '/1/0/7'), [['/1/0/7', 'T']]);
    assert.deepEqual(srv.at(-1), ['/1/0/23', true]);
    assert.equal(String(p.writes[2].path), '/2/0');
    assert.equal(packRecords(p).length, p.writes.reduce((n, w) => n + w.records.length, 0));
  });
});
