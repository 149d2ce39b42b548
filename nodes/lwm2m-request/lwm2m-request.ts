import { NodeAPI } from '../lib/red';
import { registerOperationNode } from '../lib/operation-node';

/**
 * Any device-management operation chosen in the node or by msg.operation: read, write, execute, create, delete,
 * discover, write-attributes, read-composite, write-composite.
 */
export = function (RED: NodeAPI) {
  registerOperationNode(RED, 'lwm2m-request');
};
