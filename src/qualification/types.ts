/**
 * Device qualification: the shapes of a suite run, its cases and its report (see runner.ts and cases.ts).
 */
import type { Lwm2mServer } from '../server/server';
import type { Registration } from '../server/registration';
import type { ObjectRegistry } from '../model/types';

/** A case's outcome: the device did what the specification asks, did not, or the case does not apply to it. */
export type Verdict = 'pass' | 'fail' | 'na';

/** One exchange (or one awaited event) a case made, as a supplier reads it. */
export interface Evidence {
  /** `read`, `write`, `execute`, `observe`, `notification`, `update`... */
  operation: string;
  path?: string;
  /** Content format of the request / answer (number). */
  format?: number;
  /** CoAP code of the answer (`2.05`), when one came. */
  code?: string;
  /** Time from request to answer (or from the start of the wait to the event), ms. */
  durationMs: number;
  /** What was sent (value written, attributes, arguments), as text, truncated. */
  request?: string;
  /** What came back (value, error), as text, truncated. */
  answer?: string;
}

/** The result of one case. */
export interface CaseResult {
  /** Our id (`FW-DM-001`), or the OMA ETS id when the case is one (then `etsId` is the same). */
  id: string;
  /** OMA Enabler Test Specification id (`LightweightM2M-1.1-int-101`), only where the mapping is certain. */
  etsId?: string;
  title: string;
  /** Section of the OMA TS that states the behaviour checked. */
  specRef: string;
  verdict: Verdict;
  /** Why: what failed, or why the case does not apply; a short summary when it passed. */
  reason: string;
  evidence: Evidence[];
  durationMs: number;
}

/** What the report tells of the device. */
export interface DeviceInfoReport {
  version: string;
  /** Content formats the device announced (`ct=`) plus the ones its version makes mandatory. */
  formats: number[];
  /** Objects and instances it registered: `{ '3': [0], '1': [0] }`. */
  objects: Record<string, number[]>;
  binding: string;
  lifetime: number;
  queueMode: boolean;
  manufacturer?: string;
  model?: string;
  serial?: string;
  firmware?: string;
}

export interface DeviceTestReport {
  endpoint: string;
  device: DeviceInfoReport;
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string;
  /** The options the suite ran with (destructive, timing), so that the report says how it was obtained. */
  options: { destructive: boolean; pmin: number; pmax: number; cases?: string[] };
  summary: { pass: number; fail: number; na: number };
  cases: CaseResult[];
}

/** Options of a suite run. */
export interface DeviceTestOptions {
  /** Run only these cases (ids, ETS ids or id prefixes like `FW-DM`). Default: all. */
  cases?: string[];
  /** Also run the cases that change the device for good or take it away (reboot, factory reset). Default false. */
  destructive?: boolean;
  /** pmin / pmax (s) written for the observation timing case (default 1 / 2). */
  pmin?: number;
  pmax?: number;
  /**
   * Slack of the timing checks, ms (default 500): a notification earlier than pmin by more than this fails; one later
   * than pmax by more than `lateToleranceMs` (default max(2000, pmax)) fails.
   */
  earlyToleranceMs?: number;
  lateToleranceMs?: number;
  /** Timeout of each request, ms (default: the server's). */
  timeoutMs?: number;
  /** How long to wait for an event (Update after a trigger, re-registration after a reboot), ms (default 15,000). */
  eventTimeoutMs?: number;
  /** Lifetime case: runs only when the device's lifetime is at most this, s (default 60); else not applicable. */
  maxLifetimeWaitS?: number;
  /** Called before each case and after it (progress on a node status or a UI). */
  onProgress?: (p: DeviceTestProgress) => void;
  /** Set by the caller to stop between cases (the remaining ones are reported as not applicable). */
  signal?: { aborted: boolean };
}

export interface DeviceTestProgress {
  /** 1-based index of the case, of `total`. */
  index: number;
  total: number;
  id: string;
  title: string;
  /** Set once the case has finished. */
  verdict?: Verdict;
}

/** What a case sees while it runs. */
export interface CaseContext {
  server: Lwm2mServer;
  registry: ObjectRegistry;
  endpoint: string;
  /** The registration as it is now (re-read on each access). */
  readonly registration: Registration;
  /** Formats the device announced plus the mandatory ones of its version. */
  formats: number[];
  /** Announced objects: id -> instances. */
  objects: Record<number, number[]>;
  options: Required<Omit<DeviceTestOptions, 'cases' | 'onProgress' | 'signal' | 'timeoutMs'>> & { timeoutMs?: number };
  /** Evidence of this case so far. */
  evidence: Evidence[];
  /** Runs one server call, records it as evidence; rethrows its error. */
  step<T>(operation: string, path: string | undefined, fn: (opts: { timeoutMs?: number; origin: string; format?: number }) => Promise<T>, info?: { format?: number; request?: unknown; answer?: (r: T) => unknown }): Promise<T>;
  /** Adds an evidence entry that is not a request (an awaited event, a measured time). */
  note(e: Evidence): void;
}

/** What a case's run returns: a verdict and its reason (evidence is in the context). */
export interface CaseOutcome {
  verdict: Verdict;
  reason: string;
}

/** A case of the suite. */
export interface TestCase {
  id: string;
  etsId?: string;
  title: string;
  specRef: string;
  /** What the case checks, in a sentence (shown in the report's HTML). */
  description: string;
  /** Changes the device for good or takes it away: runs only with `destructive: true`. */
  destructive?: boolean;
  /** Undefined when the case applies; otherwise why it does not (verdict 'na'). */
  precondition?(ctx: CaseContext): string | undefined;
  run(ctx: CaseContext): Promise<CaseOutcome>;
}
