import { NodeAPI } from '../lib/red';
import { registerOperationNode } from '../lib/operation-node';

/** Writes msg.payload to a resource or instance of a registered device (replace or partial update). */
export = function (RED: NodeAPI) {
  registerOperationNode(RED, 'lwm2m-write', 'write');
};
