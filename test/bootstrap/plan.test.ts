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

function plan(config: object, discover?: string, opts?: { noLayoutReason?: string }) {
  return planBootstrap(validateBootstrapConfig(config), discover === undefined ? undefined : parseBootstrapDiscover(discover), registry, opts);
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
  test('without Bootstrap-Discover, account configured at /0/0: servers from /0/1 and /1/0', () => {
    const p = plan({ deleteFirst: true, bootstrapAccountInstanceId: 0, servers: [s101, s102] });
    assert.deepEqual(p.deletes.map(String), ['/0', '/1']);
    assert.equal(p.bootstrapInstance, 0);
    assert.equal(p.bootstrapInstanceSource, 'config');
    assert.deepEqual(p.servers.map((s) => [s.securityInstance, s.serverInstance]), [[1, 0], [2, 1]]);
    assert.deepEqual(p.writes.map((w) => String(w.path)), ['/0/1', '/1/0', '/0/2', '/1/1']);
    assert.deepEqual(p.warnings, []);
  });

  test('without Bootstrap-Discover and nothing configured: /0/0 and /0/1 kept clear, with a warning', () => {
    const p = plan({ deleteFirst: true, servers: [s101, s102] }, undefined, { noLayoutReason: 'no Discover here' });
    assert.deepEqual(p.deletes.map(String), ['/0', '/1']);
    assert.equal(p.bootstrapInstance, 0);
    assert.equal(p.bootstrapInstanceSource, 'assumed');
    assert.deepEqual(p.keptClear, [0, 1]);
    assert.deepEqual(p.servers.map((s) => [s.securityInstance, s.serverInstance]), [[2, 0], [3, 1]]);
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0], /no Discover here.*\/0\/0, \/0\/1.*bootstrapAccountInstanceId/);
    // explicit ids are the configuration's word: no guess, no warning
    const explicit = plan({ servers: [{ ...s101, securityInstanceId: 4 }] });
    assert.deepEqual(explicit.warnings, []);
  });

  test('security and server records carry the account (Core 1.1 E.1, E.2)', () => {
    const p = plan({ bootstrapAccountInstanceId: 0, servers: [{ ...s102, lifetime: 300, binding: 'UQ', notificationStoring: false, defaultMaxPeriod: 60 }] });
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
    const p = plan({ bootstrapAccountInstanceId: 0, servers: [{ ...s101, securityInstanceId: 7, serverInstanceId: 8 }, s102] });
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

  test('the brief\'s Discover answer: the account at /0/1 (no ssid) is kept, the server goes where the wiped one was', () => {
    const disc = '</>;lwm2m="1.1",</0/0>;ssid=101,</0/1>,</1/0>;ssid=101,</3/0>';
    const wipe = plan({ deleteFirst: true, servers: [s101, s102] }, disc);
    assert.equal(wipe.bootstrapInstance, 1);
    assert.equal(wipe.bootstrapInstanceSource, 'discover');
    assert.deepEqual(wipe.keptClear, [1]);
    assert.deepEqual(wipe.servers.map((s) => [s.securityInstance, s.serverInstance]), [[0, 0], [2, 1]]);
    assert.deepEqual(wipe.warnings, []);
    const keep = plan({ servers: [s101, s102] }, disc);
    assert.deepEqual(keep.servers.map((s) => [s.securityInstance, s.serverInstance]), [[0, 0], [2, 1]]);
    assert.ok(!keep.writes.some((w) => String(w.path) === '/0/1'));
  });

  test('several Security instances without ssid: none is written, a warning says so; ssid 0 is no server\'s', () => {
    const p = plan({ deleteFirst: true, servers: [s101] }, '</>;lwm2m=1.1,</0/0>;ssid=0,</0/1>,</0/2>;ssid=7');
    assert.deepEqual(p.keptClear, [0, 1]);
    assert.deepEqual(p.servers.map((s) => s.securityInstance), [2]);
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0], /2 Security instances without ssid \(\/0\/0, \/0\/1\)/);
  });

  test('Delete of the account\'s instance is left out; an extra write on it is refused; other extra writes take their ids', () => {
    const disc = '</>;lwm2m=1.1,</0/0>;ssid=5,</0/1>';
    const p = plan({ deleteFirst: true, deletes: ['/0/1', '/0/0'], servers: [s101] }, disc);
    assert.deepEqual(p.deletes.map(String), ['/0', '/1', '/0/0']);
    assert.match(p.warnings.join(' '), /Bootstrap-Delete \/0\/1 was left out/);
    assert.throws(() => plan({ servers: [s101], writes: [{ path: '/0/1', value: { 0: 'coap://x' } }] }, disc),
      (e: unknown) => e instanceof BootstrapConfigError && e.field === 'writes[0].path' && /Bootstrap-Server account at \/0\/1/.test(e.message));
    assert.throws(() => plan({ servers: [s101], writes: [{ path: '/0', value: { 1: { 0: 'coap://x' } } }] }, disc), BootstrapConfigError);
    const extra = plan({ deleteFirst: true, servers: [s101], writes: [{ path: '/0/0', value: { 0: 'coap://x' } }] }, disc);
    assert.deepEqual(extra.servers.map((s) => s.securityInstance), [2]);
  });

  test('configuration and Discover disagree: the device wins, with a warning; without Discover the configuration is used', () => {
    const disc = '</>;lwm2m=1.1,</0/3>,</0/0>;ssid=5';
    const p = plan({ bootstrapAccountInstanceId: 2, servers: [s101] }, disc);
    assert.equal(p.bootstrapInstance, 3);
    assert.equal(p.bootstrapInstanceSource, 'discover');
    assert.match(p.warnings[0], /configuration puts the Bootstrap-Server account at \/0\/2, Bootstrap-Discover shows it at \/0\/3/);
    const cfg = plan({ bootstrapAccountInstanceId: 1, servers: [s101, s102] });
    assert.deepEqual(cfg.servers.map((s) => s.securityInstance), [0, 2]);
    assert.deepEqual(cfg.warnings, []);
    // bootstrapServer.securityInstanceId says the same
    const bsw = plan({ servers: [s101], bootstrapServer: { uri: 'coap://bs2:5685', securityInstanceId: 1 } });
    assert.deepEqual(bsw.writes.map((w) => String(w.path)), ['/0/1', '/0/0', '/1/0']);
    assert.deepEqual(bsw.warnings, []);
  });

  test('rewriting the account without knowing where it is: /0/0 with a warning', () => {
    const p = plan({ servers: [s101], bootstrapServer: { uri: 'coap://bs2:5685' } });
    assert.deepEqual(p.writes.map((w) => String(w.path)), ['/0/0', '/0/2', '/1/0']);
    assert.equal(p.warnings.length, 2);
    assert.match(p.warnings[0], /rewritten at \/0\/0, where it is assumed to be/);
  });
});

