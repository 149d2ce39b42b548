/**
 * Emits one message per registration event of the server's devices: register, update, deregister, expire, sleeping,
 * awake, and the values devices push with Send.
 */
import { EventEmitter } from 'events';
import { NodeAPI, Node, NodeDef } from '../lib/red';
import { useServer } from '../lib/server-node';
import { registrationPayload } from '../lib/payloads';
import type { Registration } from '../../src/server/registration';

const REGISTRATION_EVENTS = ['registered', 'updated', 'deregistered', 'expired', 'sleeping', 'awake'] as const;
const EVENT_NAMES = [...REGISTRATION_EVENTS, 'send'] as const;

interface EventsDef extends NodeDef {
  server?: string;
  endpoint?: string;
  events?: string[] | string;
}

export = function (RED: NodeAPI) {
  function EventsNode(this: Node, config: EventsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cfg = useServer(RED, node, config.server);
    if (!cfg) return;
    const wanted = new Set<string>(
      Array.isArray(config.events) ? config.events
        : typeof config.events === 'string' && config.events ? config.events.split(',').map((s) => s.trim())
        : EVENT_NAMES,
    );
    const epFilter = typeof config.endpoint === 'string' ? config.endpoint.trim() : '';
    const matches = (ep: string) => !epFilter || ep === epFilter;
    const listeners: Array<[string, (...a: any[]) => void]> = [];

    for (const ev of REGISTRATION_EVENTS) {
      if (!wanted.has(ev)) continue;
      const l = (reg: Registration, extra?: unknown) => {
        if (!matches(reg.endpoint)) return;
        const msg: Record<string, unknown> = { topic: ev, endpoint: reg.endpoint, payload: registrationPayload(reg) };
        if (ev === 'updated' && extra) msg.lwm2m = { changes: extra };
        node.send(msg);
      };
      listeners.push([ev, l]);
    }
    if (wanted.has('send')) {
      listeners.push(['send', (ev: { registration: Registration; value: unknown; records: Array<{ path: { toString(): string }; time?: number }> }) => {
        if (!matches(ev.registration.endpoint)) return;
        node.send({
          topic: 'send',
          endpoint: ev.registration.endpoint,
          payload: ev.value,
          lwm2m: {
            records: ev.records.map((r) => ({ ...r, path: r.path.toString() })),
          },
        });
      }]);
    }
    const events = cfg.server as unknown as EventEmitter;
    for (const [ev, l] of listeners) events.on(ev, l);
    node.on('close', (_r: boolean, done: () => void) => {
      for (const [ev, l] of listeners) events.removeListener(ev, l);
      done();
    });
  }
  RED.nodes.registerType('lwm2m-events', EventsNode as unknown as Function);
};
