/**
 * Datagrams the kernel dropped because a socket's receive buffer was full (Linux: `Udp: RcvbufErrors` in
 * /proc/net/snmp, for the whole machine). A burst larger than the server socket's buffer (net.core.rmem_default,
 * 208 KiB on most distributions) is lost there and costs the devices a retransmission (RFC 7252 4.2: 2 s or more).
 */
import * as fs from 'fs';

export function udpDrops(): number {
  try {
    const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    if (lines.length < 2) return NaN;
    const keys = lines[0].trim().split(/\s+/);
    const values = lines[1].trim().split(/\s+/);
    const i = keys.indexOf('RcvbufErrors');
    return i > 0 ? Number(values[i]) : NaN;
  } catch {
    return NaN;
  }
}

/** Counts drops from now on: call the result to get the count so far (NaN where the kernel does not say). */
export function dropMeter(): () => number {
  const d0 = udpDrops();
  return () => udpDrops() - d0;
}
