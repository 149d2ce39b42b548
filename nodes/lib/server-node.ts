/**
 * What flow nodes see of the `lwm2m-server` config node, and the user-side half of the sharing pattern.
 */
import { EventEmitter } from 'events';
import type { Lwm2mServer } from '../../src/server/server';
import type { ModelRegistry } from '../../src/model/registry';
import { Node, NodeAPI, NodeStatus } from './red';
import { STATUS } from './util';

export interface ServerNode extends Node {
  server: Lwm2mServer;
  registry: ModelRegistry;
  /** Resolves when the socket is bound; rejects if it could not be. */
  ready: Promise<void>;
  register(user: Node): void;
  deregister(user: Node): void;
  serverStatus(): NodeStatus;
}

/** Every live server config node by id, for the editor's admin routes. */
export const liveServers = new Map<string, ServerNode>();

/**
 * Tells when {@link liveServers} changes: `added` (node) right after a server config node is set in it (its server
 * exists, not necessarily listening yet), `removed` (node) right after it is deleted (the node is closing).
 */
export const liveServerEvents = new EventEmitter();

/**
 * Connects a flow node to its server config node: registers it (status fan-out), deregisters on close.
 * Returns undefined (and shows a red status) when the node has no server configured.
 */
export function useServer(RED: NodeAPI, node: Node, serverId: unknown): ServerNode | undefined {
  const server = typeof serverId === 'string' && serverId ? (RED.nodes.getNode(serverId) as ServerNode | null) : null;
  if (!server || !server.server) {
    node.status(STATUS.error('no server'));
    node.error('no LwM2M server configured: choose one in the node');
    return undefined;
  }
  node.on('lwm2m-status', (s: NodeStatus) => node.status(s));
  server.register(node);
  node.on('close', (_removed: boolean, done: () => void) => {
    server.deregister(node);
    done();
  });
  return server;
}
