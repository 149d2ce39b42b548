/**
 * lwm2m-events: the registration in msg.payload and the changes in msg.lwm2m hold no key whose value is undefined (an
 * absent SMS number, PSK identity or ct list is absent from the message, as JSON and the debug sidebar show it).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawDevice } from '../helpers/raw-device';
import type { NodeMessage } from '../../nodes/lib/red';
import { helper, load, serverConfig, serverNodeOf, nextMessage, FlowNode, TestNode, closeAll, endpointName } from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;

/** Paths of the keys, at any depth, whose value is undefined. */
function undefinedKeys(x: unknown, at = ''): string[] {
  if (typeof x !== 'object' || x === null || x instanceof Date) return [];
  const out: string[] = [];
  for (const k of Object.keys(x)) {
    const v = (x as Record<string, unknown>)[k];
    if (v === undefined) out.push(at + k);
    else out.push(...undefinedKeys(v, `${at}${k}.`));
  }
  return out;
}

describe('events node: no undefined fields', () => {
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'events-payload' },
    serverConfig('srv'),
    { id: 'ev', type: 'lwm2m-events', z: 'tab', server: 'srv', endpoint: '', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
  ];
  let port: number;
  const opened: RawDevice[] = [];

  before(async () => {
    await load(flow);
    port = (await serverNodeOf('srv')).server.address().port;
  });
  after(async () => {
    await closeAll(...opened);
    await helper.unload();
  });

  const of = (ep: string, topic: string) => (m: NodeMessage) => m.endpoint === ep && m.topic === topic;

  test('registered and updated without sms, identity or ct; sms shown when the device sends one', async () => {
    const raw = await RawDevice.create({ endpoint: endpointName('plain'), serverPort: port, links: '</1/0>,</3/0>' });
    opened.push(raw);
    const registered = nextMessage(n('out'), of(raw.endpoint, 'registered'));
    assert.equal((await raw.register(['lt=300', 'lwm2m=1.1'])).code, '2.01');
    const r = await registered;
    const p = r.payload as Record<string, unknown>;
    assert.deepEqual(undefinedKeys(r), []);
    for (const k of ['sms', 'identity', 'contentFormats']) assert.equal(k in p, false, k);
    assert.equal(p.endpoint, raw.endpoint);

    // ct announced, then withdrawn: the changes name it once, never as undefined
    let updated = nextMessage(n('out'), of(raw.endpoint, 'updated'));
    assert.equal((await raw.update([], '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>')).code, '2.04');
    let u = await updated;
    assert.deepEqual((u.payload as Record<string, unknown>).contentFormats, [110]);
    assert.deepEqual(undefinedKeys(u), []);
    updated = nextMessage(n('out'), of(raw.endpoint, 'updated'));
    assert.equal((await raw.update(['lt=200'], '</1/0>,</3/0>')).code, '2.04');
    u = await updated;
    assert.equal('contentFormats' in (u.payload as Record<string, unknown>), false);
    assert.deepEqual(undefinedKeys(u), []);

    const withSms = await RawDevice.create({ endpoint: endpointName('sms'), serverPort: port, links: '</1/0>,</3/0>' });
    opened.push(withSms);
    const reg2 = nextMessage(n('out'), of(withSms.endpoint, 'registered'));
    assert.equal((await withSms.register(['lt=300', 'lwm2m=1.1', 'sms=+4912345'])).code, '2.01');
    const m2 = await reg2;
    assert.equal((m2.payload as Record<string, unknown>).sms, '+4912345');
    assert.deepEqual(undefinedKeys(m2), []);
  });
});
