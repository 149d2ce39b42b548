/**
 * Content formats from a flow: the server node's "preferred formats" setting, the request node's set-format operation
 * at run time, and msg.lwm2m.undecoded for a read whose answer has a record that does not decode (raw CoAP devices).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawDevice } from '../helpers/raw-device';
import type { NodeMessage } from '../../nodes/lib/red';
import { parseFormatName, parsePreferredFormats } from '../../nodes/lib/operations';
import { helper, load, serverConfig, serverNodeOf, answer, nextError, FlowNode, TestNode, closeAll, spyNodes } from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;

describe('content formats from a flow', () => {
  const pinned = `fmt-pinned-${process.pid}`;
  const other = `fmt-other-${process.pid}`;
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'formats' },
    serverConfig('srv', { preferredFormats: `# LwM2M 1.0 devices that drop TLV requests\n${pinned} = lwm2m-json\nbroken line\nx=9999\n` }),
    { id: 'req', type: 'lwm2m-request', z: 'tab', server: 'srv', endpoint: '', path: '', operation: '', wires: [['out']] },
    { id: 'read', type: 'lwm2m-read', z: 'tab', server: 'srv', endpoint: '', path: '', format: '', keys: 'id', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
  ];
  let devPinned: RawDevice;
  let devOther: RawDevice;
  let warnings: string[] = [];

  before(async () => {
    const warn = spyNodes('warn');
    await load(flow);
    const port = (await serverNodeOf('srv')).server.address().port;
    warnings = warn.texts('srv');
    warn.restore();
    devPinned = await RawDevice.create({ endpoint: pinned, serverPort: port, links: '</1/0>,</3/0>' });
    devOther = await RawDevice.create({ endpoint: other, serverPort: port, links: '</1/0>,</3/0>' });
    assert.equal((await devPinned.register(['lt=300'])).code, '2.01'); // LwM2M 1.0
    assert.equal((await devOther.register(['lt=300'])).code, '2.01');
    const lwm2mJson = '{"bn":"/3/0/","e":[{"n":"0","sv":"OMA"}]}';
    const tlv = Buffer.of(0xc3, 0x00, 0x4f, 0x4d, 0x41);
    for (const d of [devPinned, devOther]) {
      d.on('GET', '/3/0/0', (req) => (req.accept === 11543 ? { code: '2.05', format: 11543, payload: lwm2mJson }
        : req.accept === 11542 ? { code: '2.05', format: 11542, payload: tlv } : { code: '4.06' }));
    }
  });

  after(async () => {
    await closeAll(devPinned, devOther);
    await helper.unload();
  });

  const run = (node: string, msg: Record<string, unknown>): Promise<NodeMessage> => answer(n(node), n('out'), msg);
  const accepts = (d: RawDevice) => d.received.filter((x) => x.path === '/3/0/0').map((x) => x.accept);

  test('the server node setting: endpoint=format lines, bad lines warned about and skipped', async () => {
    const r = await run('read', { endpoint: pinned, topic: '/3/0/0' });
    assert.equal(r.payload, 'OMA');
    assert.equal((r.lwm2m as { format: number }).format, 11543);
    assert.deepEqual(accepts(devPinned), [11543], 'LwM2M JSON first, no TLV request');
    assert.ok(warnings.some((w) => /line 3 "broken line"/.test(w)), warnings.join('; '));
    assert.ok(warnings.some((w) => /line 4 "x=9999".*9999 is not a content format/.test(w)), warnings.join('; '));
    assert.equal((await serverNodeOf('srv')).server.getPreferredFormat('x'), undefined);
  });

  test('set-format from a flow at run time: by name, by number, cleared with null', async () => {
    await run('read', { endpoint: other, topic: '/3/0/0' });
    const set = await run('req', { operation: 'set-format', endpoint: other, payload: 'lwm2m-json' });
    assert.deepEqual(set.payload, { endpoint: other, format: 11543 });
    assert.equal(set.topic, other);
    assert.equal((set.lwm2m as { operation: string }).operation, 'set-format');
    await run('read', { endpoint: other, topic: '/3/0/0' });
    await run('req', { operation: 'set-format', endpoint: other, payload: null });
    await run('read', { endpoint: other, topic: '/3/0/0' });
    await run('req', { operation: 'set-format', endpoint: other, payload: 11543 });
    await run('read', { endpoint: other, topic: '/3/0/0' });
    assert.deepEqual(accepts(devOther), [11542, 11543, 11542, 11543]);
    await run('req', { operation: 'set-format', endpoint: other, payload: 'auto' });
    assert.equal((await serverNodeOf('srv')).server.getPreferredFormat(other), undefined);
  });

  test('set-format errors: a payload that is no format, a format with no codec', async () => {
    const fails = async (msg: Record<string, unknown>) => {
      const e = nextError(n('req'));
      n('req').receive(msg);
      return (await e).error.message;
    };
    assert.match(await fails({ operation: 'set-format', endpoint: other, payload: 'xml' }), /set-format needs msg\.payload as a content format/);
    assert.match(await fails({ operation: 'set-format', endpoint: other, payload: 9999 }), /9999 is not a content format/);
  });

  test('a read with one record that does not decode: the rest in msg.payload, the record in msg.lwm2m.undecoded', async () => {
    // /3/0 in LwM2M JSON: resource 9 (Battery Level, Integer) carries a string.
    devPinned.on('GET', '/3/0', { code: '2.05', format: 11543, payload: '{"bn":"/3/0/","e":[{"n":"0","sv":"OMA"},{"n":"9","sv":"full"}]}' });
    const r = await run('read', { endpoint: pinned, topic: '/3/0' });
    assert.deepEqual(r.payload, { 0: 'OMA' });
    const undecoded = (r.lwm2m as { undecoded?: Array<{ path: string; reason: string }> }).undecoded;
    assert.ok(undecoded, 'msg.lwm2m.undecoded is set');
    assert.equal(undecoded!.length, 1);
    assert.equal(undecoded![0].path, '/3/0/9');
    assert.match(undecoded![0].reason, /"full" is not a valid integer/);
    // A clean answer has no undecoded field.
    devPinned.on('GET', '/3/0', { code: '2.05', format: 11543, payload: '{"bn":"/3/0/","e":[{"n":"0","sv":"OMA"}]}' });
    const clean = await run('req', { operation: 'read', endpoint: pinned, topic: '/3/0' });
    assert.equal('undecoded' in (clean.lwm2m as object), false);
  });

  test('format names and the setting parser', () => {
    assert.equal(parseFormatName('TLV'), 11542);
    assert.equal(parseFormatName(' senml-cbor '), 112);
    assert.equal(parseFormatName('11543'), 11543);
    assert.equal(parseFormatName(60), 60);
    assert.equal(parseFormatName('1.5'), undefined);
    assert.equal(parseFormatName({}), undefined);
    const p = parsePreferredFormats('a=tlv\n\n b = 110 # comment\nc:=x\n=tlv');
    assert.deepEqual(p.formats, { a: 11542, b: 110 });
    assert.equal(p.errors.length, 2);
    assert.deepEqual(parsePreferredFormats(undefined), { formats: {}, errors: [] });
  });
});
