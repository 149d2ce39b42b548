import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { nextEvent, tempDir, until } from '../helpers/server-env';
import { RawDevice } from '../helpers/raw-device';
import {
  FileRegistrationStore, Lwm2mServer, NotificationEvent, Registration, StoreError,
} from '../../src/server';
import { Observation } from '../../src/server/observation';

function registration(ep: string, over: Partial<Registration> = {}): Registration {
  const now = Date.now();
  return {
    id: `id-${ep}`, endpoint: ep, version: '1.1', lifetime: 60, binding: 'U', queueMode: false, address: '127.0.0.1', port: 40000,
    family: 'IPv4', transport: 'coap', secure: false, security: 'nosec', rootPath: '/', objectLinks: '1:0 3:0',
    registeredAt: now, lastUpdateAt: now, expiresAt: now + 60_000, ...over,
  };
}

describe('FileRegistrationStore', () => {
  test('persists registrations and observations atomically; a new store loads them', async () => {
    const tmp = tempDir('lwm2m-store-');
    try {
      const file = path.join(tmp.dir, 'sub', 'store.ndjson');
      const s1 = new FileRegistrationStore(file, { debounceMs: 20 });
      await s1.open();
      s1.add(registration('a'));
      s1.add(registration('b', { ct: [110], identity: 'id-b', security: 'psk', secure: true, sms: '123', attributes: { et: 'x' } }));
      const obs: Observation = { id: 'aa', token: 'aa', endpoint: 'a', registrationId: 'id-a', paths: ['/3/0/9'], composite: false, format: 0, createdAt: Date.now() };
      s1.addObservation(obs);
      await until(() => fs.existsSync(file), 2000, 'file written');
      await s1.flush();
      // no temporary file left behind
      assert.deepEqual(fs.readdirSync(path.dirname(file)), ['store.ndjson']);

      const s2 = new FileRegistrationStore(file);
      await s2.open();
      assert.equal(s2.size, 2);
      assert.deepEqual(s2.getByEndpoint('b'), s1.getByEndpoint('b'));
      assert.deepEqual(s2.getObservation('aa'), obs);
      assert.deepEqual(s2.observationsOf('id-a'), [obs]);
      assert.equal(s2.getByAddress('127.0.0.1', 40000, 'coap')?.endpoint !== undefined, true);

      // changes are written: remove + close flushes
      s2.remove('id-a');
      await s2.close();
      const s3 = new FileRegistrationStore(file);
      await s3.open();
      assert.equal(s3.size, 1);
      assert.equal(s3.observationCount, 0);
      await s1.close();
      await s3.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a corrupt line is skipped; a file that is not a store is a StoreError', async () => {
    const tmp = tempDir('lwm2m-store-');
    try {
      const file = path.join(tmp.dir, 'store.ndjson');
      const good = JSON.stringify({ r: registration('ok') });
      const bad = JSON.stringify({ r: { ...registration('bad'), port: 'x' } });
      fs.writeFileSync(file, `{"type":"lwm2m-server-store","version":1}\n${good}\n{not json\n${bad}\n{"o":{"id":1}}\n`);
      const s = new FileRegistrationStore(file);
      await s.open();
      assert.equal(s.size, 1);
      assert.equal(s.skippedLines, 3);

      fs.writeFileSync(file, 'hello world\n');
      await assert.rejects(new FileRegistrationStore(file).open(), StoreError);
      fs.writeFileSync(file, '{"type":"something else"}\n');
      await assert.rejects(new FileRegistrationStore(file).open(), /not a registration store file/);
      fs.writeFileSync(file, '{"type":"lwm2m-server-store","version":99}\n');
      await assert.rejects(new FileRegistrationStore(file).open(), /unsupported store file version 99/);
      // a missing file is an empty store
      const empty = new FileRegistrationStore(path.join(tmp.dir, 'none.ndjson'));
      await empty.open();
      assert.equal(empty.size, 0);
    } finally {
      tmp.cleanup();
    }
  });

  test('a failed write is reported and retried on the next flush', async () => {
    const tmp = tempDir('lwm2m-store-');
    try {
      const blocker = path.join(tmp.dir, 'blocker');
      fs.writeFileSync(blocker, 'a file where a folder is needed');
      const errors: Error[] = [];
      const s = new FileRegistrationStore(path.join(blocker, 'store.ndjson'), { debounceMs: 10, onError: (e) => errors.push(e) });
      await s.open();
      s.add(registration('x'));
      await until(() => errors.length > 0, 2000, 'write error reported');
      assert.ok(errors[0] instanceof StoreError);
      await assert.rejects(s.flush(), StoreError);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('server restart with a FileRegistrationStore', () => {
  test('registrations and observations survive a restart on the same port; a notification after it is delivered', async () => {
    const tmp = tempDir('lwm2m-restart-');
    const file = path.join(tmp.dir, 'server.ndjson');
    const coap = { ackTimeoutMs: 200, maxRetransmit: 1 };
    const s1 = new Lwm2mServer({ address: '127.0.0.1', port: 0, coap, store: new FileRegistrationStore(file, { debounceMs: 10 }) });
    await s1.start();
    const port = s1.address().port;
    const d = await RawDevice.create({ endpoint: 'persist-1', serverPort: port });
    let s2: Lwm2mServer | undefined;
    try {
      d.on('GET', '/3/0/9', (req) => ({ code: '2.05', format: 0, payload: '77', observe: req.observe === 0 }));
      await d.register(['lt=300', 'lwm2m=1.1']);
      const before = s1.getRegistration('persist-1')!;
      const obs = await s1.observe('persist-1', '/3/0/9', { format: 0, owner: 'node-42' });
      assert.equal(obs.owner, 'node-42');
      await s1.close();

      // the port is free right after close
      s2 = new Lwm2mServer({ address: '127.0.0.1', port, coap, store: new FileRegistrationStore(file, { debounceMs: 10 }) });
      await s2.start();
      assert.equal(s2.address().port, port);
      assert.deepEqual(s2.getRegistration('persist-1'), before);
      assert.deepEqual(s2.observations('persist-1').map((o) => [o.id, o.owner]), [[obs.id, 'node-42']]);

      const ev = nextEvent<[NotificationEvent]>(s2, 'notification');
      assert.equal(await d.notify(obs.token, '76', 0), 'ack');
      const [n] = await ev;
      assert.equal(n.value, 76);
      assert.equal(n.observation.id, obs.id);
      assert.equal(n.registration.endpoint, 'persist-1');

      // the restored registration works for requests and Updates
      assert.equal((await s2.read('persist-1', '/3/0/9', { format: 0 })).value, 77);
      assert.equal((await d.update()).code, '2.04');
    } finally {
      await d.close();
      await s1.close();
      await s2?.close();
      tmp.cleanup();
    }
  });

  test('registrations that expired while the server was down are removed on start', async () => {
    const tmp = tempDir('lwm2m-restart-');
    try {
      const file = path.join(tmp.dir, 'server.ndjson');
      const st = new FileRegistrationStore(file);
      await st.open();
      const past = Date.now() - 120_000;
      st.add(registration('old', { registeredAt: past, lastUpdateAt: past, expiresAt: past + 60_000 }));
      st.add(registration('fresh'));
      await st.close();
      const server = new Lwm2mServer({ address: '127.0.0.1', port: 0, store: new FileRegistrationStore(file) });
      const expired: string[] = [];
      server.on('expired', (r) => expired.push(r.endpoint));
      await server.start();
      try {
        assert.deepEqual(expired, ['old']);
        assert.deepEqual(server.registrations().map((r) => r.endpoint), ['fresh']);
      } finally {
        await server.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
