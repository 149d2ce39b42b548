/**
 * One implementation behind every operation node (read, write, execute, request): take endpoint and path from the node
 * or the message, run the operation, answer with msg.payload / msg.topic / msg.endpoint / msg.lwm2m, or done(err).
 */
import { Node, NodeAPI, NodeDef, NodeMessage, SendFn, DoneFn } from './red';
import { useServer } from './server-node';
import { FLEET_OPERATIONS, OperationName, OperationResult, OperationSettings, OPERATIONS, runOperation } from './operations';
import { coapCodeOf, describeError, endpointOf, FlowInputError, flash, okText as opOkText, shortError, STATUS } from './util';

/** The endpoint when one is given (node, then msg.endpoint), else '' (no filter). */
function optionalEndpointOf(configured: unknown, msg: NodeMessage): string {
  try {
    return endpointOf(configured, msg);
  } catch {
    return '';
  }
}

/** The status after a success: "read ok", "created /3303/1", "2 devices listed". */
function okText(op: OperationName, r: OperationResult): string {
  if (op === 'list') {
    const n = (r.details.count as number) ?? 0;
    return `${n} device${n === 1 ? '' : 's'} listed`;
  }
  return opOkText(op, r.topic);
}

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
      let endpoint: string;
      let op: OperationName;
      try {
        const chosen = fixed ?? ((config.operation || (typeof msg.operation === 'string' ? msg.operation : '')) as OperationName);
        if (!OPERATIONS.includes(chosen)) {
          throw new FlowInputError(`unknown operation "${chosen}": set it in the node or send msg.operation as one of ${OPERATIONS.join(', ')}`);
        }
        op = chosen;
        // A fleet operation (list) talks to no device: the endpoint, when there is one, only filters.
        endpoint = FLEET_OPERATIONS.has(op) ? optionalEndpointOf(config.endpoint, msg) : endpointOf(config.endpoint, msg);
      } catch (err) {
        flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
        done(err as Error);
        return;
      }
      inFlight++;
      // A request to a sleeping queue-mode device waits for its next update (LwM2M Core 6.2.x / 6.5: queue mode).
      const reg = endpoint && !FLEET_OPERATIONS.has(op) ? cfg.server.getRegistration(endpoint) : undefined;
      if (reg?.queueMode && !cfg.server.isAwake(endpoint)) node.status({ fill: 'yellow', shape: 'ring', text: `${op} queued: ${endpoint} sleeping` });
      else node.status(STATUS.busy(FLEET_OPERATIONS.has(op) ? `${op}…` : `${op} ${endpoint}`));
      cfg.ready
        .then(() => runOperation(op, cfg.server, cfg.registry, endpoint, config, msg))
        .then(
          (r) => {
            const lwm2m = { endpoint: endpoint || undefined, operation: op, path: r.topic, ...r.details };
            if (r.payloads) {
              // One message per device (list with "split"), each addressed to its device for the next node.
              const out = r.payloads.map((p, i) => {
                const m = RED.util.cloneMessage(msg);
                m.payload = p;
                m.topic = r.topic;
                m.endpoint = r.endpoints![i];
                m.lwm2m = { ...lwm2m, index: i };
                return m;
              });
              if (out.length > 0) send([out]);
            } else {
              msg.payload = r.payload;
              msg.topic = r.topic;
              if (endpoint) msg.endpoint = endpoint;
              msg.lwm2m = lwm2m;
              send(msg);
            }
            if (--inFlight === 0) flash(node, STATUS.ok(okText(op, r)), () => cfg.serverStatus());
            done();
          },
          (err: unknown) => {
            --inFlight;
            flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
            const path = typeof config.path === 'string' && config.path ? config.path : typeof msg.topic === 'string' ? msg.topic : undefined;
            // The Catch node gets this msg: the CoAP code (4.04) or the library's error code (TIMEOUT) travel with it.
            msg.lwm2m = { endpoint, operation: op, path, code: coapCodeOf(err), error: (err as { code?: unknown })?.code };
            done(describeError(err, endpoint, path));
          },
        );
    });
  }
  RED.nodes.registerType(type, OperationNode as unknown as Function);
}
