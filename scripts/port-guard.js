'use strict';
// Listens on the well-known LwM2M / CoAP ports (udp 5683, 5684) and Node-RED's default port (tcp 1880) on the
// loopback addresses while the test suite runs: no test may send to them, because a user's demo or a real server may
// be listening there. Anything that arrives is recorded and reported by scripts/run-tests.js, which fails the run.
const dgram = require('dgram');
const net = require('net');

const UDP_PORTS = [5683, 5684];
const TCP_PORTS = [1880];
const HOSTS = [{ address: '127.0.0.1', udp: 'udp4' }, { address: '::1', udp: 'udp6' }];

/** A printable summary of a datagram: CoAP Uri-Path / Uri-Query strings (ep=...), or hex. */
function describe(buf) {
  const text = buf.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim();
  return text.length >= 4 ? text.slice(0, 120) : buf.subarray(0, 32).toString('hex');
}

async function startPortGuard() {
  const hits = [];
  const notWatched = [];
  const closers = [];
  for (const h of HOSTS) {
    for (const port of UDP_PORTS) {
      const s = dgram.createSocket({ type: h.udp, ipv6Only: h.udp === 'udp6' });
      const ok = await new Promise((resolve) => {
        s.once('error', (err) => resolve(err));
        s.bind(port, h.address, () => resolve(true));
      });
      if (ok !== true) {
        notWatched.push(`udp ${h.address}:${port} (${ok.code || ok.message})`);
        s.close();
        continue;
      }
      s.on('message', (msg, rinfo) => hits.push(`udp ${h.address}:${port} got ${msg.length} bytes from port ${rinfo.port}: ${describe(msg)}`));
      s.on('error', () => undefined);
      closers.push(() => new Promise((r) => s.close(() => r())));
    }
    for (const port of TCP_PORTS) {
      const srv = net.createServer((c) => {
        hits.push(`tcp ${h.address}:${port} connection from port ${c.remotePort}`);
        c.destroy();
      });
      const ok = await new Promise((resolve) => {
        srv.once('error', (err) => resolve(err));
        srv.listen({ port, host: h.address, ipv6Only: h.address === '::1' }, () => resolve(true));
      });
      if (ok !== true) {
        notWatched.push(`tcp ${h.address}:${port} (${ok.code || ok.message})`);
        continue;
      }
      srv.unref();
      closers.push(() => new Promise((r) => srv.close(() => r())));
    }
  }
  return {
    hits,
    notWatched,
    async stop() {
      await Promise.all(closers.map((c) => c()));
    },
  };
}

module.exports = { startPortGuard, UDP_PORTS, TCP_PORTS };
