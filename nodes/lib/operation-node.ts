/**
 * One implementation behind every operation node (read, write, execute, request): take endpoint and path from the node
 * or the message, run the operation, answer with msg.payload / msg.topic / msg.endpoint / msg.lwm2m, or done(err).
 */
import { Node, NodeAPI, NodeDef, NodeMessage, SendFn, DoneFn } from './red';
import { useServer } from './server-node';
import { OperationName, OperationSettings, OPERATIONS, runOperation } from './operations';
import { describeError, endpointOf, FlowInputError, flash, shortError, STATUS } from './util';

interface OperationNodeDef extends NodeDef, OperationSettings {
  server?: string;
  endpoint?: string;
  operation?: string;
}

export function registerOperationNode(RED: NodeAPI, type: string, fixed?: OperationName): void {
  function OperationNode(this: Node, config: OperationNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cfg = useServer(RED, node, config.server);
    if (!cfg) return;
    let inFlight = 0;

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      let endpoint: string | undefined;
      let op: OperationName;
      try {
        endpoint = endpointOf(config.endpoint, msg);
        const chosen = fixed ?? ((config.operation || (typeof msg.operation === 'string' ? msg.operation : '')) as OperationName);
        if (!OPERATIONS.includes(chosen)) {
          throw new FlowInputError(`unknown operation "${chosen}": set it in the node or send msg.operation as one of ${OPERATIONS.join(', ')}`);
        }
        op = chosen;
      } catch (err) {
        flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
        done(err as Error);
        return;
      }
      inFlight++;
      // A request to a sleeping queue-mode device waits for its next update (LwM2M Core 6.2.x / 6.5: queue mode).
      const reg = cfg.server.getRegistration(endpoint);
      if (reg?.queueMode && !cfg.server.isAwake(endpoint)) node.status({ fill: 'yellow', shape: 'ring', text: `${op} queued: ${endpoint} sleeping` });
      else node.status(STATUS.busy(`${op} ${endpoint}`));
      cfg.ready
        .then(() => runOperation(op, cfg.server, cfg.registry, endpoint!, config, msg))
        .then(
          (r) => {
            msg.payload = r.payload;
            msg.topic = r.topic;
            msg.endpoint = endpoint;
            msg.lwm2m = { endpoint, operation: op, path: r.topic, ...r.details };
            send(msg);
            if (--inFlight === 0) flash(node, STATUS.ok(`${op} ok`), () => cfg.serverStatus());
            done();
          },
          (err: unknown) => {
            --inFlight;
            flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
            const path = typeof config.path === 'string' && config.path ? config.path : typeof msg.topic === 'string' ? msg.topic : undefined;
            done(describeError(err, endpoint, path));
          },
        );
    });
  }
  RED.nodes.registerType(type, OperationNode as unknown as Function);
}
