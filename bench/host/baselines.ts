/**
 * Baselines (run in the worker process): the limit of one Node process (a raw node:dgram echo) and the ceiling of the
 * coap library (a bare node-coap server answering GET).
 */
import * as dgram from 'dgram';

let echo: dgram.Socket | undefined;
let coapServer: { close(cb?: () => void): unknown } | undefined;

export async function echoStart(): Promise<{ port: number }> {
  await echoStop();
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
  s.on('error', () => undefined);
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  try { s.setRecvBufferSize(4 << 20); s.setSendBufferSize(4 << 20); } catch { /* capped by the kernel */ }
  echo = s;
  return { port: s.address().port };
}

export async function echoStop(): Promise<void> {
  const s = echo;
  echo = undefined;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
}

export async function nodeCoapStart(): Promise<{ port: number }> {
  await nodeCoapStop();
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const coap = require('coap') as typeof import('coap');
  const payload = Buffer.from('Fleetwire Bench Inc.');
  const server = coap.createServer({ type: 'udp4' }, (_req, res) => {
    res.end(payload);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  coapServer = server;
  const sock = (server as unknown as { _sock: dgram.Socket })._sock;
  return { port: sock.address().port };
}

export async function nodeCoapStop(): Promise<void> {
  const s = coapServer;
  coapServer = undefined;
  if (s) await new Promise<void>((resolve) => { s.close(() => resolve()); });
}
