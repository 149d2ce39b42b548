import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generate, parse } from 'coap-packet';
import { ACK, CON, decode, emptyMessage, encode, encodeUint, decodeUint, NON, Opt, RST, isResponseCode } from '../../src/coap/message';
import { CoapMessageError } from '../../src/coap/errors';
import { blockSize, decodeBlock, encodeBlock, pathSegments, readOptions, szxOf } from '../../src/coap/options';
import { isFresh } from '../../src/coap/observe';

/** coap-packet's parse reports known options by name. */
const NAME_TO_NUMBER: Record<string, number> = {
  'If-Match': 1, 'Uri-Host': 3, ETag: 4, 'If-None-Match': 5, Observe: 6, 'Uri-Port': 7, 'Location-Path': 8, OSCORE: 9,
  'Uri-Path': 11, 'Content-Format': 12, 'Max-Age': 14, 'Uri-Query': 15, 'Hop-Limit': 16, Accept: 17, 'Q-Block1': 19,
  'Location-Query': 20, Block2: 23, Block1: 27, Size2: 28, 'Q-Block2': 31, 'Proxy-Uri': 35, 'Proxy-Scheme': 39, Size1: 60,
  'No-Response': 258, 'OCF-Accept-Content-Format-Version': 2049, 'OCF-Content-Format-Version': 2053,
};

describe('CoAP message codec', () => {
  test('encode/decode round trip, checked against coap-packet', () => {
    const bytes = encode({
      type: CON,
      code: '0.02',
      messageId: 0xbeef,
      token: Buffer.from('12345678'),
      options: [
        { number: Opt.URI_QUERY, value: Buffer.from('ep=a') },
        { number: Opt.URI_PATH, value: Buffer.from('rd') },
        { number: Opt.CONTENT_FORMAT, value: encodeUint(40) },
      ],
      payload: Buffer.from('</1/0>'),
    });
    const p = parse(bytes);
    assert.equal(p.code, '0.02');
    assert.equal(p.confirmable, true);
    assert.equal(p.messageId, 0xbeef);
    assert.deepEqual(p.options.map((o) => o.name), ['Uri-Path', 'Content-Format', 'Uri-Query']);
    const m = decode(bytes);
    assert.equal(m.type, CON);
    assert.deepEqual(m.options.map((o) => o.number), [11, 12, 15]);
    assert.equal(m.payload.toString(), '</1/0>');
    assert.equal(m.token.toString(), '12345678');
  });

  test('types and empty messages', () => {
    for (const t of [CON, NON, ACK, RST] as const) {
      const e = emptyMessage(t, 513);
      assert.deepEqual([...e], [0x40 | (t << 4), 0, 2, 1]);
      const m = decode(e);
      assert.equal(m.type, t);
      assert.equal(m.code, '0.00');
      assert.equal(m.messageId, 513);
    }
    assert.deepEqual([...encode({ type: ACK, code: '0.00', messageId: 7 })], [0x60, 0, 0, 7]);
  });

  test('long options and extended deltas/lengths decode', () => {
    const long = Buffer.alloc(300, 0x61);
    const bytes = generate({ code: '2.05', messageId: 1, token: Buffer.alloc(0), options: [{ name: 'Location-Path', value: long }, { name: '2049', value: Buffer.from('x') }], payload: Buffer.from('p') });
    const m = decode(bytes);
    assert.equal(m.options[0].value.length, 300);
    assert.equal(m.options[1].number, 2049);
  });

  test('malformed datagrams are CoapMessageErrors, with the header when it is readable', () => {
    const cases: [number[], boolean][] = [
      [[], false],
      [[0x40, 1, 0], false],
      [[0x00, 1, 0, 1], false], // version 0
      [[0x49, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9], true], // TKL 9
      [[0x4f, 1, 0, 1], true], // TKL 15
      [[0x41, 1, 0, 1], true], // token missing
      [[0x40, 1, 0, 1, 0xff], true], // payload marker, no payload
      [[0x40, 1, 0, 1, 0xd1], true], // truncated extended delta
      [[0x40, 1, 0, 1, 0x1e, 0x00], true], // truncated extended length
      [[0x40, 1, 0, 1, 0x13, 0x61], true], // value past the end
      [[0x40, 1, 0, 1, 0x1f], true], // length nibble 15
      [[0x40, 0, 0, 1, 0x00], true], // empty message with content
      [[0x41, 0, 0, 1, 0x00], true], // empty message with a token
      [[0x40, 1, 0, 1, 0xe0, 0xff, 0xff, 0xe0, 0xff, 0xff], true], // option number above 65535
    ];
    for (const [bytes, hasHeader] of cases) {
      assert.throws(
        () => decode(Buffer.from(bytes)),
        (e: unknown) => e instanceof CoapMessageError && (e.header !== undefined) === hasHeader,
        `case ${Buffer.from(bytes).toString('hex')}`,
      );
    }
  });

  test('random garbage never throws anything but CoapMessageError', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 20000; i++) {
      const len = Math.floor(rnd() * 40);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(rnd() * 256);
      if (len > 0 && rnd() < 0.7) b[0] = (b[0] & 0x3f) | 0x40; // mostly version 1, to reach the option parser
      try {
        decode(b);
      } catch (e) {
        assert.ok(e instanceof CoapMessageError, `unexpected ${String(e)} for ${b.toString('hex')}`);
      }
    }
  });

  test('encode and decode agree byte for byte with coap-packet over random valid messages', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const int = (n: number) => Math.floor(rnd() * n);
    const bytes = (n: number) => {
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = int(256);
      return b;
    };
    // Lengths around every boundary of the option header (0-12 inline, 13-268 one extra byte, 269+ two).
    const lengths = [0, 1, 2, 4, 8, 12, 13, 14, 200, 268, 269, 270, 1000];
    // Numbers giving deltas on both sides of 13 and 269, and repeated numbers.
    const numbers = [1, 3, 4, 6, 8, 11, 12, 14, 15, 17, 23, 27, 28, 35, 60, 258, 270, 284, 2049, 2053, 65000, 65535];
    const TYPES = [CON, NON, ACK, RST] as const;
    for (let i = 0; i < 3000; i++) {
      const type = TYPES[int(4)];
      const cls = [0, 2, 4, 5, 1, 7][int(6)];
      const code = `${cls}.${String(int(32)).padStart(2, '0')}`;
      if (code === '0.00') continue;
      const messageId = int(0x10000);
      const token = rnd() < 0.2 ? undefined : bytes(int(9));
      const options: { number: number; value: Buffer }[] = [];
      const count = int(8);
      for (let k = 0; k < count; k++) {
        const n = numbers[int(numbers.length)];
        const reps = rnd() < 0.3 ? 1 + int(3) : 1;
        for (let r = 0; r < reps; r++) options.push({ number: n, value: bytes(lengths[int(lengths.length)]) });
      }
      if (rnd() < 0.5) options.sort((a, b) => a.number - b.number); // in order (the usual case) or not
      const payload = rnd() < 0.3 ? undefined : bytes(rnd() < 0.1 ? 1500 : int(64));
      const msg = { type, code, messageId, token, options, payload };
      const expected = generate({
        code, messageId, token, payload,
        options: options.map((o) => ({ name: String(o.number), value: o.value })),
        confirmable: type === CON, ack: type === ACK, reset: type === RST,
      }, 65507);
      const ours = encode(msg);
      assert.ok(ours.equals(expected), `message ${i}: ${ours.toString('hex')} != ${expected.toString('hex')}`);
      const m = decode(ours);
      const p = parse(ours);
      assert.equal(m.type, type);
      assert.equal(m.code, p.code);
      assert.equal(m.messageId, p.messageId);
      assert.ok(m.token.equals(p.token));
      assert.ok(m.payload.equals(p.payload));
      assert.deepEqual(m.options.map((o) => o.number), p.options.map((o) => Number(NAME_TO_NUMBER[o.name as string] ?? o.name)));
      assert.deepEqual(m.options.map((o) => o.value.toString('hex')), p.options.map((o) => o.value.toString('hex')));
      // stable order of repeated options
      const inOrder = [...options].sort((a, b) => a.number - b.number);
      assert.deepEqual(m.options.map((o) => o.value.toString('hex')), inOrder.map((o) => o.value.toString('hex')));
    }
  });

  test('encode rejects what cannot be sent', () => {
    assert.throws(() => encode({ type: CON, code: '0.01', messageId: 1, token: Buffer.alloc(9) }), CoapMessageError);
    assert.throws(() => encode({ type: CON, code: '8.01', messageId: 1 }), CoapMessageError);
    assert.throws(() => encode({ type: CON, code: '2.32', messageId: 1 }), CoapMessageError);
    assert.throws(() => encode({ type: CON, code: '0.01', messageId: 70000 }), CoapMessageError);
    assert.throws(() => encode({ type: CON, code: '0.01', messageId: 1, options: [{ number: 0, value: Buffer.alloc(0) }] }), CoapMessageError);
    assert.throws(() => encode({ type: CON, code: '0.01', messageId: 1, payload: Buffer.alloc(70000) }), CoapMessageError);
    assert.throws(() => encode({ type: CON, code: '0.01', messageId: 1, options: [{ number: 11.5, value: Buffer.alloc(0) }] }), CoapMessageError);
    assert.throws(() => encode({ type: CON, code: '0.01', messageId: 1, options: [{ number: 11, value: 'x' as unknown as Buffer }] }), CoapMessageError);
    assert.throws(() => encode({ type: CON, code: '0.01', messageId: 1, payload: 'x' as unknown as Buffer }), CoapMessageError);
  });

  test('uint options are minimal', () => {
    assert.equal(encodeUint(0).length, 0);
    assert.deepEqual([...encodeUint(255)], [255]);
    assert.deepEqual([...encodeUint(256)], [1, 0]);
    assert.deepEqual([...encodeUint(0x1000000)], [1, 0, 0, 0]);
    assert.equal(decodeUint(encodeUint(11543)), 11543);
    assert.throws(() => encodeUint(-1), CoapMessageError);
    assert.ok(isResponseCode('2.05') && isResponseCode('5.03') && !isResponseCode('0.01') && !isResponseCode('2.5') && !isResponseCode('3.00'));
  });
});

describe('options', () => {
  test('readOptions: typed values, repeated options, critical checks', () => {
    const o = readOptions([
      { number: Opt.OBSERVE, value: Buffer.from([1, 0]) },
      { number: Opt.URI_PATH, value: Buffer.from('3') },
      { number: Opt.URI_PATH, value: Buffer.from('0') },
      { number: Opt.CONTENT_FORMAT, value: encodeUint(11542) },
      { number: Opt.URI_QUERY, value: Buffer.from('a=1') },
      { number: Opt.ACCEPT, value: encodeUint(110) },
      { number: Opt.BLOCK2, value: encodeBlock(3, true, 6) },
      { number: Opt.SIZE2, value: encodeUint(5000) },
    ]);
    assert.deepEqual(o.uriPath, ['3', '0']);
    assert.deepEqual(o.uriQuery, ['a=1']);
    assert.equal(o.observe, 256);
    assert.equal(o.contentFormat, 11542);
    assert.equal(o.accept, 110);
    assert.deepEqual(o.block2, { num: 3, more: true, szx: 6 });
    assert.equal(o.size2, 5000);
    assert.equal(o.badCritical, -1);
    // Repeated non-repeatable critical option (Accept) -> bad; repeated elective (Content-Format) -> first kept.
    assert.equal(readOptions([{ number: Opt.ACCEPT, value: encodeUint(1) }, { number: Opt.ACCEPT, value: encodeUint(2) }]).badCritical, Opt.ACCEPT);
    const cf = readOptions([{ number: Opt.CONTENT_FORMAT, value: encodeUint(1) }, { number: Opt.CONTENT_FORMAT, value: encodeUint(2) }]);
    assert.equal(cf.contentFormat, 1);
    assert.equal(cf.badCritical, -1);
    // Unknown critical / elective.
    assert.equal(readOptions([{ number: 9, value: Buffer.alloc(1) }]).badCritical, 9); // OSCORE: not supported
    assert.equal(readOptions([{ number: 1000, value: Buffer.alloc(1) }]).badCritical, -1);
    // Out-of-range length on an elective option is ignored (Content-Format of 3 bytes).
    const bad = readOptions([{ number: Opt.CONTENT_FORMAT, value: Buffer.from([1, 2, 3]) }]);
    assert.equal(bad.contentFormat, undefined);
    assert.equal(bad.badCritical, -1);
    assert.equal(readOptions([{ number: Opt.PROXY_URI, value: Buffer.from('coap://x') }]).proxy, true);
  });

  test('block options (RFC 7959 2.2)', () => {
    assert.deepEqual(decodeBlock(encodeBlock(0, false, 0)), { num: 0, more: false, szx: 0 });
    assert.deepEqual(decodeBlock(encodeBlock(0xfffff, true, 6)), { num: 0xfffff, more: true, szx: 6 });
    assert.equal(encodeBlock(0, false, 0).length, 0);
    assert.deepEqual([...encodeBlock(1, true, 2)], [0x1a]);
    assert.throws(() => encodeBlock(0x100000, false, 0), CoapMessageError);
    assert.throws(() => encodeBlock(0, false, 7), CoapMessageError);
    assert.equal(blockSize(6), 1024);
    assert.equal(szxOf(16), 0);
    assert.throws(() => szxOf(1000), CoapMessageError);
  });

  test('path segments', () => {
    assert.deepEqual(pathSegments('/3/0/1'), ['3', '0', '1']);
    assert.deepEqual(pathSegments('/'), []);
    assert.deepEqual(pathSegments('rd'), ['rd']);
    assert.deepEqual(pathSegments(['a', 'b']), ['a', 'b']);
  });
});

describe('observe freshness (RFC 7641 3.4)', () => {
  test('newer modulo 2^24, or 128 s later', () => {
    assert.equal(isFresh(1, 0, 2, 0), true);
    assert.equal(isFresh(2, 0, 1, 0), false);
    assert.equal(isFresh(5, 0, 5, 0), false);
    assert.equal(isFresh(0xfffff0, 0, 3, 0), true, 'wrap-around');
    assert.equal(isFresh(3, 0, 0xfffff0, 0), false);
    assert.equal(isFresh(10, 0, 2, 128_001), true, 'stale number but much later');
  });
});
