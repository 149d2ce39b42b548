/**
 * The process under test. The benchmark forks it (bench/lib/proc.ts) and drives it by RPC; it hosts one server at a
 * time: the echo or node-coap baseline, our LwM2M server (UDP or DTLS), or lwm2m-node-lib.
 */
import { serveRpc } from '../lib/proc';
import * as baselines from './baselines';
import * as fleet from './fleet';
import * as ours from './ours';
import * as peer from './peer';

function cpuNow(): { cpuMs: number } {
  const c = process.cpuUsage();
  return { cpuMs: (c.user + c.system) / 1000 };
}

serveRpc({
  'echo.start': baselines.echoStart,
  'echo.stop': baselines.echoStop,
  'nodecoap.start': baselines.nodeCoapStart,
  'nodecoap.stop': baselines.nodeCoapStop,
  'ours.start': ours.start,
  'ours.stop': ours.stop,
  'ours.count': ours.count,
  'ours.readLoop': ours.readLoop,
  'ours.observeAll': ours.observeAll,
  'ours.memoryInject': ours.memoryInject,
  'meter.begin': ours.meterBegin,
  'meter.end': ours.meterEnd,
  'peer.start': peer.start,
  'peer.stop': peer.stop,
  'peer.count': peer.count,
  'fleet.start': fleet.start,
  'fleet.stop': fleet.stop,
  'fleet.fdLimit': fleet.fdLimit,
  cpu: cpuNow,
  memory: () => process.memoryUsage(),
}, async () => {
  // (a fleet is not stopped: de-registering thousands of clients one by one only delays the exit; its sockets close
  // with the process)
  await Promise.allSettled([baselines.echoStop(), baselines.nodeCoapStop(), ours.stop(), peer.stop()]);
});
