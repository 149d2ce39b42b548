/**
 * `lwm2m device test`: runs the device qualification suite (src/qualification) against a registered device and sends
 * the report. Progress shows on the node status; an unknown endpoint or bad options go to done(err).
 */
import { NodeAPI, Node, NodeDef, NodeMessage, SendFn, DoneFn } from '../lib/red';
import { useServer } from '../lib/server-node';
import { describeError, endpointOf, flash, shortError, STATUS } from '../lib/util';
import { renderReportHtml } from '../../src/qualification';
import { casesOf, runGuarded, secondsOf } from './run';

interface DeviceTestNodeDef extends NodeDef {
  server?: string;
  endpoint?: string;
  cases?: string;
  destructive?: boolean;
  pmin?: string | number;
  pmax?: string | number;
  html?: boolean;
}

export = function (RED: NodeAPI) {
  function DeviceTestNode(this: Node, config: DeviceTestNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cfg = useServer(RED, node, config.server);
    if (!cfg) return;
    const signal = { aborted: false };
    node.on('close', (_removed: boolean, done: () => void) => {
      signal.aborted = true;
      done();
    });

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      let endpoint: string;
      let opts: Parameters<typeof runGuarded>[2];
      try {
        endpoint = endpointOf(config.endpoint, msg);
        opts = {
          cases: casesOf(config.cases) ?? casesOf(msg.cases),
          // Destructive cases (reboot, factory reset, de-registration) need an explicit opt-in: the node's checkbox or
          // msg.destructive === true.
          destructive: config.destructive === true || msg.destructive === true,
          pmin: secondsOf(config.pmin, 'pmin') ?? secondsOf(msg.pmin, 'msg.pmin'),
          pmax: secondsOf(config.pmax, 'pmax') ?? secondsOf(msg.pmax, 'msg.pmax'),
          signal,
          onProgress: (p) => {
            if (p.verdict === undefined) node.status(STATUS.busy(`${p.index}/${p.total} ${p.id}`));
          },
        };
      } catch (err) {
        flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
        done(err as Error);
        return;
      }
      node.status(STATUS.busy(`testing ${endpoint}`));
      cfg.ready
        .then(() => runGuarded(cfg.server, endpoint, opts))
        .then(
          (report) => {
            msg.payload = report;
            msg.endpoint = endpoint;
            msg.topic = endpoint;
            if (config.html === true) msg.html = renderReportHtml(report);
            send(msg);
            const s = report.summary;
            const text = `${s.pass} pass, ${s.fail} fail, ${s.na} n/a`;
            node.status(s.fail > 0 ? { fill: 'red', shape: 'dot', text } : STATUS.ok(text));
            done();
          },
          (err: unknown) => {
            flash(node, STATUS.error(shortError(err)), () => cfg.serverStatus());
            done(describeError(err, endpoint));
          },
        );
    });
  }
  RED.nodes.registerType('lwm2m-device-test', DeviceTestNode as unknown as Function);
};
