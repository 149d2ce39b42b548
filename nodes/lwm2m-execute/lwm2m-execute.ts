import { NodeAPI } from '../lib/red';
import { registerOperationNode } from '../lib/operation-node';

/** Executes a resource (reboot, firmware update, ...) on a registered device, with optional arguments. */
export = function (RED: NodeAPI) {
  registerOperationNode(RED, 'lwm2m-execute', 'execute');
};
