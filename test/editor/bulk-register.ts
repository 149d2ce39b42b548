/**
 * Registers many endpoints with an LwM2M server quickly, for the list-at-scale checks: plain CoAP Register requests
 * (Core 1.1 6.2.1: POST /rd?ep=..&lt=..&lwm2m=1.1 with a link-format object list) from one loopback UDP socket, written
 * directly with coap-packet, a batch at a time. The "devices" answer nothing afterwards: they are only listed.
 */
import * as dgram from 'dgram';
import { generate, parse } from 'coap-packet';

export async function bulkRegister(port: number, prefix: string, count: number, batch = 200): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const pending = new Map<number, () => void>();
  let created = 0;
  socket.on('message', (msg) => {
    try {
      const p = parse(msg);
      const done = pending.get(p.messageId);
      if (done && p.ack) {
        if (p.code === '2.01') created++;
        pending.delete(p.messageId);
        done();
      }
    } catch {
      // not CoAP: ignore
    }
  });
  try {
    let mid = 1;
    for (let start = 0; start < count; start += batch) {
      const waits: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(count, start + batch); i++) {
        const messageId = mid++;
        const ep = `${prefix}${String(i).padStart(5, '0')}`;
        const buf = generate({
          code: 'POST', messageId, confirmable: true, token: Buffer.from([i & 255, (i >> 8) & 255, 7]),
          options: [
            { name: 'Uri-Path', value: Buffer.from('rd') },
            { name: 'Content-Format', value: Buffer.from([40]) },
            { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
            { name: 'Uri-Query', value: Buffer.from('lt=600') },
            { name: 'Uri-Query', value: Buffer.from('lwm2m=1.1') },
          ],
          payload: Buffer.from('</1/0>,</3/0>'),
        });
        waits.push(new Promise<void>((resolve) => {
          const t = setTimeout(() => { pending.delete(messageId); resolve(); }, 5000);
          pending.set(messageId, () => { clearTimeout(t); resolve(); });
        }));
        socket.send(buf, port, '127.0.0.1');
      }
      await Promise.all(waits);
    }
  } finally {
    await new Promise<void>((r) => socket.close(() => r()));
  }
  return created;
}
