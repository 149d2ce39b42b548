import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryBootstrapConfigStore, validateBootstrapConfig } from '../../src/bootstrap/config';
import { BootstrapConfigError } from '../../src/bootstrap/errors';

const nosec = { uri: 'coap://127.0.0.1:5683', shortServerId: 101 };
const psk = { uri: 'coaps://127.0.0.1:5684', shortServerId: 102, identity: 'dev-1', key: '000102030405060708090a0b0c0d0e0f' };

function rejects(config: unknown, field: string, words: RegExp): void {
  assert.throws(() => validateBootstrapConfig(config), (e: unknown) => {
    assert.ok(e instanceof BootstrapConfigError, `expected BootstrapConfigError, got ${String(e)}`);
    assert.equal(e.code, 'BOOTSTRAP_CONFIG');
    assert.equal(e.field, field);
    assert.match(e.message, words);
    return true;
  });
}

describe('validateBootstrapConfig', () => {
  test('applies defaults and resolves the security mode from the URI scheme', () => {
    const c = validateBootstrapConfig({ servers: [nosec, psk] });
    assert.equal(c.deleteFirst, false);
    assert.equal(c.discover, true);
    assert.deepEqual(c.deletes, []);
    const [a, b] = c.servers;
    assert.equal(a.securityMode, 'nosec');
    assert.equal(a.lifetime, 86400);
    assert.equal(a.binding, 'U');
    assert.equal(a.notificationStoring, true);
    assert.equal(a.key, undefined);
    assert.equal(b.securityMode, 'psk');
    assert.deepEqual(b.key, Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
    assert.equal(b.identity, 'dev-1');
  });

  test('accepts keys as Buffer, 0x-hex and JSON-serialized Buffer; numeric strings from editor tables', () => {
    const key = Buffer.from([1, 2, 3]);
    for (const k of [key, '0x010203', JSON.parse(JSON.stringify(key))]) {
      const c = validateBootstrapConfig({ servers: [{ ...psk, key: k, shortServerId: '7', lifetime: '60' }] });
      assert.deepEqual(c.servers[0].key, key);
      assert.equal(c.servers[0].shortServerId, 7);
      assert.equal(c.servers[0].lifetime, 60);
    }
  });

  test('refuses a configuration that is not an object', () => {
    rejects(null, 'config', /must be an object, got null/);
    rejects([nosec], 'config', /an array/);
    rejects('x', 'config', /string/);
  });

  test('bootstrapAccountInstanceId: a Security instance id, not one a server uses, agreeing with bootstrapServer', () => {
    assert.equal(validateBootstrapConfig({ servers: [nosec], bootstrapAccountInstanceId: '1' }).bootstrapAccountInstanceId, 1);
    rejects({ servers: [nosec], bootstrapAccountInstanceId: -1 }, 'bootstrapAccountInstanceId', /from 0 to/);
    rejects({ servers: [{ ...nosec, securityInstanceId: 1 }], bootstrapAccountInstanceId: 1 }, 'bootstrapAccountInstanceId', /servers\[0\]/);
    rejects({ servers: [nosec], bootstrapAccountInstanceId: 1, bootstrapServer: { uri: 'coap://bs', securityInstanceId: 2 } }, 'bootstrapAccountInstanceId', /differs/);
  });

  test('a device configured as LwM2M 1.0 gets no Bootstrap-Discover unless asked', () => {
    assert.equal(validateBootstrapConfig({ servers: [nosec], version: '1.0' }).discover, false);
    assert.equal(validateBootstrapConfig({ servers: [nosec], version: '1.0', discover: true }).discover, true);
    assert.equal(validateBootstrapConfig({ servers: [nosec], version: '1.1' }).discover, true);
  });

  test('missing uri', () => rejects({ servers: [{ shortServerId: 1 }] }, 'servers[0].uri', /missing/));
  test('uri with a scheme that is not CoAP', () => rejects({ servers: [{ uri: 'http://x', shortServerId: 1 }] }, 'servers[0].uri', /scheme/));
  test('uri that is not a URI', () => rejects({ servers: [{ uri: 'not a uri', shortServerId: 1 }] }, 'servers[0].uri', /not a URI/));
  test('uri longer than the Security resource allows', () =>
    rejects({ servers: [{ uri: 'coap://' + 'a'.repeat(260), shortServerId: 1 }] }, 'servers[0].uri', /255/));
  test('missing short server id', () => rejects({ servers: [{ uri: nosec.uri }] }, 'servers[0].shortServerId', /missing/));
  test('short server id out of range', () => rejects({ servers: [{ ...nosec, shortServerId: 65535 }] }, 'servers[0].shortServerId', /1 to 65534/));
  test('duplicate short server id', () =>
    rejects({ servers: [nosec, { ...psk, shortServerId: 101 }] }, 'servers[1].shortServerId', /already used by servers\[0\]/));
  test('psk without identity', () => rejects({ servers: [{ ...psk, identity: undefined }] }, 'servers[0].identity', /missing/));
  test('psk without key', () => rejects({ servers: [{ ...psk, key: '' }] }, 'servers[0].key', /missing/));
  test('bad key hex', () => rejects({ servers: [{ ...psk, key: '0g' }] }, 'servers[0].key', /hexadecimal/));
  test('odd-length key hex', () => rejects({ servers: [{ ...psk, key: 'abc' }] }, 'servers[0].key', /hexadecimal/));
  test('psk with a coap:// URI', () =>
    rejects({ servers: [{ ...psk, uri: 'coap://h:5683', securityMode: 'psk' }] }, 'servers[0].securityMode', /coaps/));
  test('nosec with a coaps:// URI', () =>
    rejects({ servers: [{ uri: 'coaps://h', shortServerId: 3, securityMode: 'nosec' }] }, 'servers[0].securityMode', /coap:\/\//));
  test('unknown security mode', () => rejects({ servers: [{ ...nosec, securityMode: 'rpk' }] }, 'servers[0].securityMode', /nosec.*psk/));
  test('credentials on a nosec account', () => rejects({ servers: [{ ...nosec, key: '00' }] }, 'servers[0].key', /only for securityMode psk/));
  test('bad binding', () => rejects({ servers: [{ ...nosec, binding: 'X' }] }, 'servers[0].binding', /U, T, S, N, Q/));
  test('bad lifetime', () => rejects({ servers: [{ ...nosec, lifetime: -1 }] }, 'servers[0].lifetime', /from 0/));
  test('pmax below pmin', () =>
    rejects({ servers: [{ ...nosec, defaultMinPeriod: 10, defaultMaxPeriod: 5 }] }, 'servers[0].defaultMaxPeriod', /below/));
  test('duplicate explicit instance ids', () =>
    rejects({ servers: [{ ...nosec, securityInstanceId: 2 }, { ...psk, securityInstanceId: 2 }] }, 'servers[1].securityInstanceId', /already used/));
  test('no server and nothing else', () => rejects({ servers: [] }, 'servers', /empty/));
  test('servers not an array', () => rejects({ servers: {} }, 'servers', /array/));
  test('extra write with a bad path', () => rejects({ servers: [nosec], writes: [{ path: '2/0', value: {} }] }, 'writes[0].path', /start with/));
  test('extra write on the root', () => rejects({ servers: [nosec], writes: [{ path: '/', value: {} }] }, 'writes[0].path', /object, an instance or a resource/));
  test('extra write with a value of the wrong type', () =>
    rejects({ servers: [nosec], writes: [{ path: '/2/0', value: { 0: 'three' } }] }, 'writes[0].value', /\/2\/0\/0/));
  test('extra write without value', () => rejects({ servers: [nosec], writes: [{ path: '/2/0' }] }, 'writes[0].value', /missing/));
  test('Bootstrap-Read outside objects 1 and 2', () => rejects({ servers: [nosec], reads: ['/3/0'] }, 'reads[0]', /Server \(\/1\) and Access Control/));
  test('Bootstrap-Delete of a resource', () => rejects({ servers: [nosec], deletes: ['/0/1/2'] }, 'deletes[0]', /root, an object or an instance/));
  test('content format that cannot carry a write', () => rejects({ servers: [nosec], contentFormat: 0 }, 'contentFormat', /cannot carry/));
  test('bad version', () => rejects({ servers: [nosec], version: 'two' }, 'version', /LwM2M version/));
  test('bad extra security resource', () =>
    rejects({ servers: [{ ...nosec, securityResources: { 11: 'soon' } }] }, 'servers[0].securityResources', /\/0\/0\/11/));
  test('bootstrap account rewrite without credentials for psk', () =>
    rejects({ servers: [nosec], bootstrapServer: { uri: 'coaps://bs:5686' } }, 'bootstrapServer.identity', /missing/));

  test('converts extra writes with the model types', () => {
    const c = validateBootstrapConfig({ servers: [nosec], writes: [{ path: '/2/0', value: { 0: 3, 1: 0, 2: { 101: 15 }, 3: 101 } }] });
    assert.equal(c.writes.length, 1);
    assert.deepEqual(c.writes[0].records.map((r) => [String(r.path), r.value]),
      [['/2/0/0', 3], ['/2/0/1', 0], ['/2/0/2/101', 15], ['/2/0/3', 101]]);
  });

  test('normalizes a version like 1.1.1', () => {
    assert.equal(validateBootstrapConfig({ servers: [nosec], version: '1.1.1' }).version, '1.1');
  });
});

describe('InMemoryBootstrapConfigStore', () => {
  test('per-endpoint configuration, default under *, validation on set', () => {
    const store = new InMemoryBootstrapConfigStore({ dev1: { servers: [nosec] } });
    assert.equal(store.get('dev1')?.servers[0].shortServerId, 101);
    assert.equal(store.get('dev2'), undefined);
    store.setDefault({ servers: [psk] });
    assert.equal(store.get('dev2')?.servers[0].shortServerId, 102);
    assert.equal(store.get('dev1')?.servers[0].shortServerId, 101);
    assert.equal(store.getOwn('dev2'), undefined);
    assert.throws(() => store.set('dev3', { servers: [{ uri: 'coap://x' } as never] }), BootstrapConfigError);
    assert.equal(store.getOwn('dev3'), undefined);
    assert.throws(() => store.set('', { servers: [nosec] }), BootstrapConfigError);
    assert.equal(store.size, 2);
    assert.equal(store.delete('dev1'), true);
    assert.equal(store.get('dev1')?.servers[0].shortServerId, 102);
  });
});
