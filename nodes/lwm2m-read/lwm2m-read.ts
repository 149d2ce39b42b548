import { NodeAPI } from '../lib/red';
import { registerOperationNode } from '../lib/operation-node';

/** Reads a resource, instance or object from a registered device. */
export = function (RED: NodeAPI) {
  registerOperationNode(RED, 'lwm2m-read', 'read');
};
