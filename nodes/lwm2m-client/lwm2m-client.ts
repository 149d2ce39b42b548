/**
 * Config node: Node-RED as an LwM2M device (or gateway). Runs one embedded client that registers with a server (ours,
 * Leshan, a carrier's ...), shared by the client-set and client-events nodes. Keys live in Node-RED credentials.
 */
import { Lwm2mClient, Lwm2mClientOptions, ObjectsInput } from '../../src/client/client';
import { Node, NodeAPI, NodeDef } from '../lib/red';
import { ClientNode } from '../lib/client-node';
import { STATUS } from '../lib/util';

interface ClientConfig extends NodeDef {
  endpoint?: string;
  serverUri?: string;
  security?: string;
  lifetime?: string | number;
  binding?: string;
  version?: string;
  bootstrap?: boolean;
  bootstrapUri?: string;
  objects?: string;
  manufacturer?: string;
  model?: string;
  serial?: string;
  firmwareVersion?: string;
}

function parseObjects(text: string | undefined): ObjectsInput | undefined {
  if (!text || !text.trim()) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message}); write them like {"3303": {"0": {"5700": 21.5}}}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('objects must be a JSON object like {"3303": {"0": {"5700": 21.5}}}');
  return v as ObjectsInput;
}

export = function (RED: NodeAPI) {
  function Lwm2mClientNode(this: ClientNode, config: ClientConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const users = new Map<string, Node>();
    node.pendingReads = new Map();
    let lastError = '';
    const creds = node.credentials ?? {};

    const opts: Lwm2mClientOptions = {
      endpoint: (config.endpoint || '').trim() || `node-red-${node.id}`,
      lifetime: Number(config.lifetime) > 0 ? Number(config.lifetime) : 300,
      binding: config.binding === 'UQ' ? 'UQ' : 'U',
      version: (['1.0', '1.1', '1.2'].includes(String(config.version)) ? config.version : '1.1') as Lwm2mClientOptions['version'],
      device: {
        manufacturer: config.manufacturer || 'Node-RED',
        model: config.model || 'node-red-contrib-lwm2m',
        serial: config.serial || node.id,
        firmwareVersion: config.firmwareVersion || '1.0',
      },
    };
    try {
      opts.objects = parseObjects(config.objects);
    } catch (err) {
      node.error(`objects: ${(err as Error).message}`);
    }
    const psk = config.security === 'psk';
    if (config.bootstrap) {
      opts.bootstrap = { uri: (config.bootstrapUri || '').trim() };
      if (psk) { opts.bootstrap.identity = creds.identity; opts.bootstrap.key = creds.key; }
    } else {
      opts.serverUri = (config.serverUri || '').trim();
      if (psk) { opts.identity = creds.identity; opts.key = creds.key; }
    }

    try {
      node.client = new Lwm2mClient(opts);
    } catch (err) {
      lastError = (err as Error).message;
      node.error(`LwM2M client: ${lastError}`);
      node.status(STATUS.error(lastError));
      node.clientStatus = () => STATUS.error(lastError);
      node.register = (u: Node) => { users.set(u.id, u); u.emit('lwm2m-status', node.clientStatus()); };
      node.deregister = (u: Node) => { users.delete(u.id); };
      return;
    }
    const client = node.client;

    node.clientStatus = () => {
      switch (client.state) {
        case 'registered': return STATUS.ok('registered');
        case 'registering': return { fill: 'yellow', shape: 'ring', text: 'registering' };
        case 'bootstrapping': return { fill: 'yellow', shape: 'ring', text: 'bootstrapping' };
        case 'sleeping': return { fill: 'blue', shape: 'ring', text: 'sleeping' };
        case 'error': return STATUS.error(lastError || 'error');
        default: return STATUS.idle(client.state);
      }
    };
    const fanOut = () => { const s = node.clientStatus(); for (const u of users.values()) u.emit('lwm2m-status', s); };
    client.on('state', fanOut);
    client.on('error', (err: Error) => {
      lastError = err.message;
      node.warn(`LwM2M client ${opts.endpoint}: ${err.message}`);
      fanOut();
    });
    node.register = (u: Node) => { users.set(u.id, u); u.emit('lwm2m-status', node.clientStatus()); };
    node.deregister = (u: Node) => { users.delete(u.id); };

    client.start().catch((err: Error) => {
      lastError = err.message;
      node.error(`LwM2M client ${opts.endpoint} cannot start: ${err.message}`);
      fanOut();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      for (const resolve of node.pendingReads.values()) resolve(undefined);
      node.pendingReads.clear();
      // De-register so the server sees the device leave; never hold a redeploy up for long.
      const stop = client.stop().catch(() => undefined);
      Promise.race([stop, new Promise((r) => setTimeout(r, 3000).unref())]).then(() => {
        client.removeAllListeners();
        done();
      });
    });
  }

  RED.nodes.registerType('lwm2m-client', Lwm2mClientNode as unknown as Function, {
    credentials: { identity: { type: 'text' }, key: { type: 'password' } },
  });
};
