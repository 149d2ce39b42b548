/**
 * What flow nodes see of the `lwm2m-client` config node (Node-RED acting as an LwM2M device or gateway).
 */
import type { Lwm2mClient } from '../../src/client/client';
import { Node, NodeAPI, NodeStatus } from './red';
import { STATUS } from './util';

export interface ClientNode extends Node {
  client: Lwm2mClient;
  register(user: Node): void;
  deregister(user: Node): void;
  clientStatus(): NodeStatus;
  /** Reads the flow answers live: id -> resolver (see lwm2m-client-events and lwm2m-client-set). */
  pendingReads: Map<string, (value: unknown) => void>;
}

export function useClient(RED: NodeAPI, node: Node, clientId: unknown): ClientNode | undefined {
  const cfg = typeof clientId === 'string' && clientId ? (RED.nodes.getNode(clientId) as ClientNode | null) : null;
  if (!cfg) {
    node.status(STATUS.error('no client'));
    node.error('no LwM2M client configured: choose one in the node');
    return undefined;
  }
  if (!cfg.client) {
    // The config node exists but its settings are wrong: say so, rather than "no client".
    const why = cfg.clientStatus?.().text ?? 'error';
    node.status(STATUS.error(why));
    node.error(`the LwM2M client "${cfg.name || cfg.id}" is not running: ${why}`);
    return undefined;
  }
  node.on('lwm2m-status', (s: NodeStatus) => node.status(s));
  cfg.register(node);
  node.on('close', (_removed: boolean, done: () => void) => {
    cfg.deregister(node);
    done();
  });
  return cfg;
}
