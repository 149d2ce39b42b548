/**
 * `npm run demo`: Node-RED (editor on http://127.0.0.1:1880, user directory .demo/ in the project) with this package, an
 * LwM2M server on udp/5683, the example flows deployed, and a simulated device (our embedded client) that registers,
 * so that events, reads and notifications show in the debug sidebar at once. Ctrl-C stops everything.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Lwm2mClient } from '../src/client/client';
import { projectRoot, startNodeRed } from './node-red-runner';

const SHARED_SERVER = 'demo0000000000a1';

/** The server examples, merged so that they share one lwm2m-server config node on 5683. */
function demoFlows(root: string): unknown[] {
  const out: Array<Record<string, unknown>> = [];
  for (const file of ['01-server-basics.json', '02-observe-fleet.json', '03-device-requests.json']) {
    const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')) as Array<Record<string, unknown>>;
    for (const n of flow) {
      if (n.type === 'lwm2m-server') continue;
      if (n.server !== undefined) n.server = SHARED_SERVER;
      out.push(n);
    }
  }
  out.push({ id: SHARED_SERVER, type: 'lwm2m-server', name: 'demo server', address: '', port: 5683, minLifetime: '', maxLifetime: '',
    queueAwakeTime: 93, requestTimeout: 10, modelsDir: '', persist: false });
  return out;
}

async function main(): Promise<void> {
  const root = projectRoot();
  const port = Number(process.env.DEMO_PORT ?? 1880);
  const lwm2mPort = 5683;
  console.log('Starting Node-RED with the LwM2M nodes ...');
  const nr = await startNodeRed({ userDir: path.join(root, '.demo'), port, flows: demoFlows(root), echo: true });
  await nr.waitForLog(/LwM2M server listening/, 30000);

  let temperature = 21.0;
  const device = new Lwm2mClient({
    endpoint: 'demo-device',
    serverUri: `coap://127.0.0.1:${lwm2mPort}`,
    lifetime: 60,
    version: '1.1',
    device: { manufacturer: 'Fleetwire demo', model: 'thermo-light', serial: 'DEMO-0001', firmwareVersion: '1.0.0' },
    objects: {
      3303: { 0: { 5700: temperature, 5701: 'Cel', 5601: temperature, 5602: temperature, 5603: -40, 5604: 85 } },
      3311: { 0: { 5850: false, 5851: 100 } },
    },
  });
  device.on('state', (s: string) => console.log(`[demo-device] ${s}`));
  device.on('write', (ev: { path: string }) => console.log(`[demo-device] server wrote ${ev.path}`));
  device.on('execute', (ev: { path: string }) => console.log(`[demo-device] server executed ${ev.path}`));
  await device.start();
  const tick = setInterval(() => {
    temperature = Math.round((temperature + (Math.random() - 0.5) * 0.6) * 10) / 10;
    device.set('/3303/0/5700', temperature);
  }, 2000);

  console.log(`\nDemo running: open http://127.0.0.1:${port} and the debug sidebar. Ctrl-C to stop.\n`);
  const stop = async () => {
    clearInterval(tick);
    await device.stop().catch(() => undefined);
    await nr.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
