/**
 * Sets resource values of the embedded client from the flow (msg.topic path + msg.payload value, or msg.payload as
 * {path: value} for several at once). Changed values trigger the notifications observers asked for. A message that
 * carries `msg.lwm2mRead` (from lwm2m-client-events' live reads) answers that read.
 */
import { NodeAPI, Node, NodeDef, NodeMessage, SendFn, DoneFn } from '../lib/red';
import { useClient } from '../lib/client-node';
import { FlowInputError, flash, shortError, STATUS } from '../lib/util';

interface SetDef extends NodeDef { client?: string; path?: string }

export = function (RED: NodeAPI) {
  function ClientSetNode(this: Node, config: SetDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cfg = useClient(RED, node, config.client);
    if (!cfg) return;

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      try {
        if (typeof msg.lwm2mRead === 'string' && cfg.pendingReads.has(msg.lwm2mRead)) {
          cfg.pendingReads.get(msg.lwm2mRead)!(msg.payload);
          done();
          return;
        }
        const configured = typeof config.path === 'string' ? config.path.trim() : '';
        const topic = configured || (typeof msg.topic === 'string' ? msg.topic.trim() : '');
        if (topic) {
          if (msg.payload === undefined) throw new FlowInputError(`no value for ${topic}: msg.payload is empty`);
          cfg.client.set(topic, msg.payload);
        } else if (msg.payload && typeof msg.payload === 'object' && !Array.isArray(msg.payload) && !Buffer.isBuffer(msg.payload)
          && Object.keys(msg.payload).length > 0 && Object.keys(msg.payload).every((k) => k.startsWith('/'))) {
          cfg.client.setMany(msg.payload as Record<string, unknown>);
        } else {
          throw new FlowInputError('set needs msg.topic as a resource path (/3303/0/5700) with msg.payload the value, or msg.payload as {"/3303/0/5700": 21.5, ...}');
        }
        done();
      } catch (err) {
        flash(node, STATUS.error(shortError(err)), () => cfg.clientStatus());
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('lwm2m-client-set', ClientSetNode as unknown as Function);
};
