/**
 * Runs the qualification suite against one registered device through the server's public API and returns the report.
 *
 * ```ts
 * const report = await runDeviceTest(server, 'urn:dev:1', { onProgress: (p) => console.log(p.index, p.id) });
 * fs.writeFileSync('report.html', renderReportHtml(report));
 * ```
 */
import type { Lwm2mServer } from '../server/server';
import { registrationObjects } from '../server/registration';
import type { Registration } from '../server/registration';
import type { OutgoingTraffic, TrafficEvent } from '../server/traffic';
import { UnknownEndpointError } from '../server/errors';
import { mandatoryFormats } from '../content/choose';
import { ContentFormat } from '../content/formats';
import { suiteFor, errorText } from './cases';
import { CaseContext, CaseResult, DeviceInfoReport, DeviceTestOptions, DeviceTestReport, Evidence, TestCase } from './types';
import { showValue } from './values';

const ANSWER_MAX = 300;

/** The formats a device supports by its registration: `ct=` plus the mandatory ones of its version (not link-format). */
export function deviceFormats(reg: Registration): number[] {
  const set = new Set<number>([...mandatoryFormats(reg.version), ...(reg.ct ?? [])]);
  set.delete(ContentFormat.LINK);
  set.delete(ContentFormat.OPAQUE);
  return [...set].sort((a, b) => a - b);
}

/** True when `c` is named by the selection (its id, its ETS id, or a prefix of its id such as `FW-DM`). */
function selected(c: TestCase, selection: readonly string[] | undefined): boolean {
  if (!selection || selection.length === 0) return true;
  return selection.some((s) => s === c.id || s === c.etsId || c.id.startsWith(s));
}

/** The cases a run would include for this device and selection (before preconditions). */
export function plannedCases(reg: Registration, opts: Pick<DeviceTestOptions, 'cases'> = {}): TestCase[] {
  return suiteFor(deviceFormats(reg)).filter((c) => selected(c, opts.cases));
}

/**
 * Runs the suite against `endpoint` (registered with `server`). Resolves with the report (a failing device gives a
 * report with 'fail' verdicts, not a rejection); rejects with UnknownEndpointError when the device is not registered.
 */
export async function runDeviceTest(server: Lwm2mServer, endpoint: string, opts: DeviceTestOptions = {}): Promise<DeviceTestReport> {
  const first = server.getRegistration(endpoint);
  if (!first) throw new UnknownEndpointError(endpoint);
  const pmax = opts.pmax ?? 2;
  const options: CaseContext['options'] = {
    destructive: opts.destructive === true,
    pmin: opts.pmin ?? 1,
    pmax,
    earlyToleranceMs: opts.earlyToleranceMs ?? 500,
    lateToleranceMs: opts.lateToleranceMs ?? Math.max(2000, pmax * 1000),
    eventTimeoutMs: opts.eventTimeoutMs ?? 15_000,
    maxLifetimeWaitS: opts.maxLifetimeWaitS ?? 60,
    timeoutMs: opts.timeoutMs,
  };
  if (!(options.pmin >= 0) || !(options.pmax > options.pmin)) throw new RangeError(`device test: pmax (${options.pmax}) must be greater than pmin (${options.pmin})`);
  const startedAt = new Date();
  const formats = deviceFormats(first);
  const objects: Record<number, number[]> = {};
  for (const [id, o] of Object.entries(registrationObjects(first))) objects[Number(id)] = o.instances;
  const device: DeviceInfoReport = {
    version: first.version, formats, objects: Object.fromEntries(Object.entries(objects).map(([k, v]) => [k, [...v]])),
    binding: first.binding, lifetime: first.lifetime, queueMode: first.queueMode,
  };
  // Identity of the device for the report (optional resources: a device without them is not failed for it here).
  try {
    const r = await server.read(endpoint, '/3/0', { timeoutMs: opts.timeoutMs, origin: 'device-test' });
    const v = (r.value ?? {}) as Record<string, unknown>;
    const text = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
    device.manufacturer = text(v[0]);
    device.model = text(v[1]);
    device.serial = text(v[2]);
    device.firmware = text(v[3]);
  } catch {
    // FW-DM-001 / FW-DM-002 report what is wrong with /3/0.
  }

  const cases = suiteFor(formats).filter((c) => selected(c, opts.cases));
  const results: CaseResult[] = [];
  let stepSeq = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    opts.onProgress?.({ index: i + 1, total: cases.length, id: c.id, title: c.title });
    const evidence: Evidence[] = [];
    const t0 = performance.now();
    const base = { id: c.id, ...(c.etsId ? { etsId: c.etsId } : {}), title: c.title, specRef: c.specRef };
    let result: CaseResult;
    const ctx: CaseContext = {
      server, registry: server.registry, endpoint, formats, objects, options, evidence,
      get registration() {
        return server.getRegistration(endpoint) ?? first;
      },
      note: (e) => { evidence.push(e); },
      step: (operation, path, fn, info = {}) => step(server, endpoint, evidence, `device-test:${++stepSeq}`, operation, path, fn, info, options.timeoutMs),
    };
    if (opts.signal?.aborted) {
      result = { ...base, verdict: 'na', reason: 'not run: the test was stopped', evidence, durationMs: 0 };
    } else if (c.destructive && !options.destructive) {
      result = { ...base, verdict: 'na', reason: 'destructive case: run with destructive: true to include it', evidence, durationMs: 0 };
    } else if (!server.getRegistration(endpoint)) {
      result = { ...base, verdict: 'fail', reason: 'the device is no longer registered', evidence, durationMs: 0 };
    } else {
      const why = c.precondition?.(ctx);
      if (why !== undefined) {
        result = { ...base, verdict: 'na', reason: why, evidence, durationMs: 0 };
      } else {
        try {
          const out = await c.run(ctx);
          result = { ...base, verdict: out.verdict, reason: out.reason, evidence, durationMs: Math.round(performance.now() - t0) };
        } catch (err) {
          result = { ...base, verdict: 'fail', reason: errorText(err), evidence, durationMs: Math.round(performance.now() - t0) };
        }
      }
    }
    results.push(result);
    opts.onProgress?.({ index: i + 1, total: cases.length, id: c.id, title: c.title, verdict: result.verdict });
  }
  const summary = { pass: 0, fail: 0, na: 0 };
  for (const r of results) summary[r.verdict]++;
  return {
    endpoint,
    device,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: { destructive: options.destructive, pmin: options.pmin, pmax: options.pmax, ...(opts.cases?.length ? { cases: [...opts.cases] } : {}) },
    summary,
    cases: results,
  };
}

/**
 * Runs one server call and records every exchange it made (from the server's `traffic` events tagged with this step's
 * origin: a 4.06 and the retry in another format are two entries), with the value or error on the last one.
 */
async function step<T>(
  server: Lwm2mServer, endpoint: string, evidence: Evidence[], origin: string, operation: string, path: string | undefined,
  fn: (o: { timeoutMs?: number; origin: string; format?: number }) => Promise<T>,
  info: { format?: number; request?: unknown; answer?: (r: T) => unknown }, timeoutMs: number | undefined,
): Promise<T> {
  const exchanges: Evidence[] = [];
  const onTraffic = (ev: TrafficEvent): void => {
    if (ev.kind !== 'request' || ev.direction !== 'out') return;
    const out = ev as OutgoingTraffic;
    if (out.origin !== origin || out.endpoint !== endpoint) return;
    const e: Evidence = { operation, path: out.path, durationMs: Math.round(out.durationMs) };
    let line = out.method + (out.query?.length ? '?' + out.query.join('&') : '');
    if (out.accept !== undefined) line += ` Accept: ${out.accept}`;
    if (out.format !== undefined) line += ` Content-Format: ${out.format}`;
    if (out.observe !== undefined) line += ` Observe: ${out.observe}`;
    e.request = line;
    const format = out.answerFormat ?? out.format ?? out.accept;
    if (format !== undefined) e.format = format;
    if (out.code !== undefined) e.code = out.code;
    if (out.error !== undefined) e.answer = out.error;
    exchanges.push(e);
  };
  server.on('traffic', onTraffic);
  const t0 = performance.now();
  const request = info.request === undefined ? undefined : typeof info.request === 'string' ? info.request : showValue(info.request, ANSWER_MAX);
  try {
    const r = await fn({ timeoutMs, origin, ...(info.format !== undefined ? { format: info.format } : {}) });
    const last = finish(exchanges, operation, path, t0, info.format);
    if (request !== undefined) last.request = last.request ? `${last.request} ${request}` : request;
    if (info.answer) {
      try {
        last.answer = showValue(info.answer(r), ANSWER_MAX);
      } catch {
        // evidence only
      }
    }
    return r;
  } catch (err) {
    const last = finish(exchanges, operation, path, t0, info.format);
    if (request !== undefined) last.request = last.request ? `${last.request} ${request}` : request;
    const text = errorText(err);
    last.answer = text.length > ANSWER_MAX ? text.slice(0, ANSWER_MAX - 1) + '…' : text;
    throw err;
  } finally {
    server.off('traffic', onTraffic);
    evidence.push(...exchanges);
  }
}

/** The last exchange of a step (one made up when the call sent nothing, e.g. a queued request that timed out). */
function finish(exchanges: Evidence[], operation: string, path: string | undefined, t0: number, format: number | undefined): Evidence {
  if (exchanges.length === 0) {
    const e: Evidence = { operation, durationMs: Math.round(performance.now() - t0) };
    if (path !== undefined) e.path = path;
    if (format !== undefined) e.format = format;
    exchanges.push(e);
  }
  return exchanges[exchanges.length - 1];
}
