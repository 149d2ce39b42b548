/**
 * Observes a resource (or several paths: Observe-Composite) on a device and emits every notification until cancelled by
 * a message (msg.cancel = true) or by a redeploy. Optionally observes each device as it registers, which is how a fleet
 * is watched without a message per device.
 */
import { NodeAPI, Node, NodeDef, NodeMessage, SendFn, DoneFn } from '../lib/red';
import { useServer } from '../lib/server-node';
import { describeError, endpointOf, flash, pathsOf, shortError, STATUS, FlowInputError } from '../lib/util';
import type { Registration } from '../../src/server/registration';
import type { Observation } from '../../src/server/observation';
import type { NotificationEvent } from '../../src/server/server';

interface ObserveDef extends NodeDef {
  server?: string;
  endpoint?: string;
  path?: string;
  onRegister?: boolean;
  pmin?: string | number;
  pmax?: string | number;
}

function attrNum(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export = function (RED: NodeAPI) {
  function ObserveNode(this: Node, config: ObserveDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cfg = useServer(RED, node, config.server);
    if (!cfg) return;
    const server = cfg.server;
    /** observation id -> observation, for the observations this node started. */
    const mine = new Map<string, Observation>();
    const attrs: Record<string, number> = {};
    const pmin = attrNum(config.pmin);
    const pmax = attrNum(config.pmax);
    if (pmin !== undefined) attrs.pmin = pmin;
    if (pmax !== undefined) attrs.pmax = pmax;

    const showCount = () => {
      if (mine.size > 0) node.status({ fill: 'green', shape: 'dot', text: `observing ${mine.size}` });
      else node.status(cfg.serverStatus());
    };
    node.removeAllListeners('lwm2m-status');
    node.on('lwm2m-status', (s) => (mine.size > 0 ? showCount() : node.status(s)));

    /** One message per value: the Observe answer is the first notification (RFC 7641 4.2), then every later one. */
    const emit = (endpoint: string, obs: Observation, value: unknown, format: number, records: Array<{ path: { toString(): string } }>, initial: boolean) => {
      node.send({
        topic: obs.paths.join(','),
        endpoint,
        payload: value,
        lwm2m: {
          endpoint,
          paths: obs.paths,
          observation: obs.id,
          format,
          initial,
          records: records.map((r) => ({ ...r, path: r.path.toString() })),
        },
      });
    };

    async function start(endpoint: string, paths: string[]): Promise<Observation> {
      await cfg!.ready;
      if (Object.keys(attrs).length > 0) {
        for (const p of paths) await server.writeAttributes(endpoint, p, attrs);
      }
      const r = await server.observe(endpoint, paths.length === 1 ? paths[0] : paths, { owner: node.id });
      const obs: Observation = { ...r };
      delete (obs as Partial<typeof r>).value;
      delete (obs as Partial<typeof r>).records;
      // Observing the same paths again replaces the earlier observation at the server (one per paths and device).
      for (const [id, o] of [...mine]) {
        if (o.endpoint === endpoint && o.paths.join(',') === obs.paths.join(',') && id !== obs.id) mine.delete(id);
      }
      mine.set(obs.id, obs);
      showCount();
      emit(endpoint, obs, r.value, r.format, r.records, true);
      return obs;
    }

    async function cancel(endpoint: string, paths: string[] | undefined): Promise<number> {
      let n = 0;
      for (const [id, obs] of [...mine]) {
        if (obs.endpoint !== endpoint) continue;
        if (paths && paths.join(',') !== obs.paths.join(',')) continue;
        mine.delete(id);
        n++;
        await server.cancelObservation(endpoint, id, { active: true }).catch(() => undefined);
      }
      showCount();
      return n;
    }

    const onNotification = (ev: NotificationEvent) => {
      if (ev.observation.owner !== node.id) return;
      // Observations restored from a persisted store after a restart come back owned by this node id.
      if (!mine.has(ev.observation.id)) { mine.set(ev.observation.id, ev.observation); showCount(); }
      emit(ev.registration.endpoint, ev.observation, ev.value, ev.format, ev.records, false);
    };
    server.on('notification', onNotification);

    const onGone = (reg: Registration) => {
      for (const [id, obs] of [...mine]) if (obs.endpoint === reg.endpoint) mine.delete(id);
      showCount();
    };
    server.on('deregistered', onGone);
    server.on('expired', onGone);

    // Observe every matching device when it registers (a new registration drops earlier observations, Core 6.2.1).
    const onRegistered = (reg: Registration) => {
      // A new registration ends the device's earlier observations (Core 6.2.1): forget them here too.
      for (const [id, obs] of [...mine]) if (obs.endpoint === reg.endpoint && obs.registrationId !== reg.id) mine.delete(id);
      showCount();
      if (!config.onRegister) return;
      const want = typeof config.endpoint === 'string' ? config.endpoint.trim() : '';
      if (want && want !== reg.endpoint) return;
      let paths: string[];
      try {
        paths = pathsOf(config.path, {}).map(String);
      } catch (err) {
        node.warn((err as Error).message);
        return;
      }
      start(reg.endpoint, paths).catch((err) => {
        flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
        // With a message, so that a Catch node gets it although no input message started this observation.
        node.error(describeError(err, reg.endpoint, paths.join(',')), { endpoint: reg.endpoint, topic: paths.join(',') });
      });
    };
    server.on('registered', onRegistered);
    if (config.onRegister) {
      cfg.ready.then(() => { for (const reg of server.registrations()) onRegistered(reg); }, () => undefined);
    }

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      let endpoint: string;
      let paths: string[] | undefined;
      try {
        endpoint = endpointOf(config.endpoint, msg);
        const isCancel = msg.cancel === true || msg.payload === 'cancel';
        try {
          paths = pathsOf(config.path, msg).map(String);
        } catch (err) {
          if (!isCancel) throw err;
          paths = undefined; // cancel everything of this endpoint
        }
        if (isCancel) {
          cancel(endpoint, paths).then(() => done(), (err) => done(describeError(err, endpoint)));
          return;
        }
      } catch (err) {
        flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
        done(err instanceof FlowInputError ? err : describeError(err));
        return;
      }
      start(endpoint, paths!).then(
        () => done(),
        (err) => {
          flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
          done(describeError(err, endpoint, paths!.join(',')));
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      server.removeListener('notification', onNotification);
      server.removeListener('deregistered', onGone);
      server.removeListener('expired', onGone);
      server.removeListener('registered', onRegistered);
      const all = [...mine.values()];
      mine.clear();
      // A redeploy ends this node's observations: cancel them at the devices, without holding up the redeploy for long.
      const cancels = all.map((o) => server.cancelObservation(o.endpoint, o.id, { active: false }).catch(() => undefined));
      Promise.race([Promise.all(cancels), new Promise((r) => setTimeout(r, 2000).unref())]).then(() => done());
    });
  }
  RED.nodes.registerType('lwm2m-observe', ObserveNode as unknown as Function);
};
