/**
 * FileRegistrationStore writes to a temporary beside the file and renames it over the file when complete. A process
 * killed in between leaves the temporary, as large as the store; the next open() removes such leftovers (and only
 * those) before loading.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../helpers/server-env';
import { FileRegistrationStore, Lwm2mServer, Registration } from '../../src/server';

function registration(ep: string): Registration {
  const now = Date.now();
  return {
    id: `id-${ep}`, endpoint: ep, version: '1.1', lifetime: 600, binding: 'U', queueMode: false, address: '127.0.0.1', port: 40000,
    family: 'IPv4', transport: 'coap', secure: false, security: 'nosec', rootPath: '/', objectLinks: '1:0 3:0',
    registeredAt: now, lastUpdateAt: now, expiresAt: now + 600_000,
  };
}

/**
 * Runs a store in a child process that is killed (SIGKILL) after it wrote its temporary in full, just before the
 * rename: what a crash or `kill -9` during a write leaves behind.
 */
function killedDuringWrite(file: string, count: number): void {
  const mod = require.resolve('../../src/server/file-store');
  const script = `
    const fsp = require('fs').promises;
    fsp.rename = () => { process.kill(process.pid, 'SIGKILL'); return new Promise(() => undefined); };
    const { FileRegistrationStore } = require(${JSON.stringify(mod)});
    const s = new FileRegistrationStore(${JSON.stringify(file)}, { debounceMs: 0 });
    s.open().then(() => {
      const now = Date.now();
      for (let i = 0; i < ${count}; i++) s.add({ id: 'k' + i, endpoint: 'killed-' + i, version: '1.1', lifetime: 600, binding: 'U',
        queueMode: false, address: '127.0.0.1', port: 40000 + (i % 1000), family: 'IPv4', transport: 'coap', secure: false,
        security: 'nosec', rootPath: '/', objectLinks: '1:0 3:0', registeredAt: now, lastUpdateAt: now, expiresAt: now + 600000 });
      return s.flush();
    });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 20_000 });
  assert.equal(r.signal, 'SIGKILL', `child ended with ${r.status} ${r.signal}: ${r.stderr}`);
}

const temporaries = (dir: string, base: string) => fs.readdirSync(dir).filter((n) => n.startsWith(`.${base}.`) && n.endsWith('.tmp'));

describe('FileRegistrationStore: temporaries of interrupted writes', () => {
  test('writes killed before the rename leave full-size temporaries; open() removes them and loads the store', async () => {
    const tmp = tempDir('lwm2m-store-tmp-');
    try {
      const file = path.join(tmp.dir, 'store.ndjson');
      const s1 = new FileRegistrationStore(file, { debounceMs: 0 });
      await s1.open();
      s1.add(registration('kept'));
      await s1.close();

      // Three crashes in a row: each start removes what the previous one left, so they do not pile up.
      for (let i = 0; i < 3; i++) killedDuringWrite(file, 2000);
      const left = temporaries(tmp.dir, 'store.ndjson');
      assert.equal(left.length, 1, left.join(', '));
      assert.ok(fs.statSync(path.join(tmp.dir, left[0])).size > 2000 * 200, `${left[0]} holds the whole store`);
      // the store file itself is the last complete write
      const s2 = new FileRegistrationStore(file);
      await s2.open();
      assert.deepEqual([...s2.all()].map((r) => r.endpoint), ['kept']);
      assert.equal(s2.removedTemporaries, 1);
      assert.deepEqual(temporaries(tmp.dir, 'store.ndjson'), []);
      await s2.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('the server removes them at start; a first write that never finished leaves an empty store', async () => {
    const tmp = tempDir('lwm2m-store-tmp-');
    try {
      const file = path.join(tmp.dir, 'devices.ndjson');
      killedDuringWrite(file, 50);
      assert.equal(fs.existsSync(file), false);
      assert.equal(temporaries(tmp.dir, 'devices.ndjson').length, 1);
      const server = new Lwm2mServer({ address: '127.0.0.1', port: 0, store: new FileRegistrationStore(file) });
      await server.start();
      try {
        assert.deepEqual(temporaries(tmp.dir, 'devices.ndjson'), []);
        assert.equal(server.registrationCount(), 0);
      } finally {
        await server.close();
      }
    } finally {
      tmp.cleanup();
    }
  });

  test('only the temporaries of this file are removed', async () => {
    const tmp = tempDir('lwm2m-store-tmp-');
    try {
      const file = path.join(tmp.dir, 'store.ndjson');
      const keep = [
        'store.ndjson.1.1.tmp', '.store.ndjson.bak', '.store.ndjson.x.1.tmp', '.store.ndjson.1.tmp', '.store.ndjson.1.1.tmp.old',
        '.other.ndjson.1.1.tmp', '.store.ndjson.1.1.1.tmp', 'notes.txt',
      ];
      const stale = ['.store.ndjson.4242.1.tmp', `.store.ndjson.${process.pid}.7.tmp`];
      for (const n of [...keep, ...stale]) fs.writeFileSync(path.join(tmp.dir, n), 'x');
      const s = new FileRegistrationStore(file);
      await s.open();
      assert.equal(s.removedTemporaries, 2);
      assert.deepEqual(fs.readdirSync(tmp.dir).sort(), [...keep].sort());
      await s.close();
    } finally {
      tmp.cleanup();
    }
  });
});
