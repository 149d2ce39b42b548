/**
 * `npm run bench`: measures our LwM2M server against the limit of the machine (raw dgram echo), the CoAP library
 * ceiling (bare node-coap) and a peer (lwm2m-node-lib), in one run, and prints a summary table of ratios.
 *
 *   node dist/bench/run.js            full run (a few minutes), writes bench/RESULTS.md
 *   node dist/bench/run.js --quick    CI (BENCH_QUICK=1 too): small counts, under a minute
 *   node dist/bench/run.js --only=storm,peer     some sections (baselines, storm, reads, notify, flow, memory, dtls, peer, codecs, fleet)
 *   node dist/bench/run.js --only=storm --profile   CPU profiles of the server processes (dist/profiles/), summarised
 *
 * The server under test always runs in a forked worker process (bench/host/worker.ts), the load in this one; they
 * talk over loopback UDP. Figures are printed, never asserted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BenchConfig, configFor, Mode } from './config';
import { profiling } from './lib/proc';
import { printProfile } from './lib/profile';
import { machine, Report } from './lib/report';
import { projectRoot } from './lib/root';
import { baselines } from './sections/baselines';
import { codecs } from './sections/codecs';
import { Ctx } from './sections/context';
import { notifications, reads } from './sections/device-ops';
import { dtls } from './sections/dtls';
import { fleet } from './sections/fleet';
import { flow } from './sections/flow';
import { memory } from './sections/memory';
import { peer, storm } from './sections/storm';

export const SECTIONS: Record<string, (ctx: Ctx) => Promise<void>> = {
  baselines, storm, reads, notify: notifications, flow, memory, dtls, peer, codecs, fleet,
};

export interface RunOptions {
  mode: Mode;
  /** Only these sections (plus the baselines for notify and flow, and notify for flow: their ratios need them). */
  only?: string[];
  /** Override sizes (tests). */
  config?: Partial<BenchConfig>;
  out?: (line: string) => void;
  /** Write bench/RESULTS.md (default: full mode with every section). */
  writeResults?: boolean;
  /** Write a CPU profile of every worker (server process) into this folder and print a summary of each. */
  profileDir?: string;
}

export interface RunResult {
  report: Report;
  elapsedMs: number;
  /** Sections that threw (the run goes on with the next one). */
  failures: Array<{ section: string; error: string }>;
}

export async function runBench(o: RunOptions): Promise<RunResult> {
  const cfg: BenchConfig = { ...configFor(o.mode), ...(o.config ?? {}) };
  const out = o.out ?? ((l: string) => console.log(l));
  const report = new Report(out);
  const m = machine();
  const t0 = Date.now();
  out(`LwM2M benchmark, ${cfg.mode} mode: ${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}, ${m.date}, load average ${m.loadAverage.toFixed(2)}`);
  let names = Object.keys(SECTIONS);
  if (o.only && o.only.length) {
    const unknown = o.only.filter((s) => !(s in SECTIONS));
    if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(', ')}; known: ${names.join(', ')}`);
    // notifications compare with the node-coap baseline, the flow with the notifications
    const needBaselines = o.only.some((s) => ['notify', 'flow'].includes(s));
    names = names.filter((s) => o.only!.includes(s) || (s === 'baselines' && needBaselines) || (s === 'notify' && o.only!.includes('flow')));
  }
  const failures: RunResult['failures'] = [];
  const ctx: Ctx = { cfg, report };
  if (o.profileDir) {
    fs.rmSync(o.profileDir, { recursive: true, force: true });
    fs.mkdirSync(o.profileDir, { recursive: true });
    profiling.dir = o.profileDir;
  }
  for (const name of names) {
    try {
      await SECTIONS[name](ctx);
    } catch (err) {
      const e = err as Error;
      failures.push({ section: name, error: e.message });
      report.note(`section ${name} failed: ${e.stack ?? e.message}`);
    }
  }
  const elapsedMs = Date.now() - t0;
  out('');
  out(`== Summary (${cfg.mode} mode, ${(elapsedMs / 1000).toFixed(0)} s) ==`);
  out(report.table());
  if (report.skipped.length) out('\nskipped: ' + report.skipped.map((s) => `${s.section}: ${s.reason}`).join('; '));
  if (o.profileDir) {
    profiling.dir = undefined;
    for (const d of fs.readdirSync(o.profileDir).sort()) {
      // the main thread's profile is the largest one of the worker's folder
      const dir = path.join(o.profileDir, d);
      const files = fs.readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')).map((x) => path.join(dir, x));
      if (files.length === 0) continue;
      files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
      out('');
      out(`== CPU profile of worker ${d} ==`);
      printProfile(files[0], projectRoot(), out);
    }
  }
  const write = o.writeResults ?? (cfg.mode === 'full' && !o.only && !o.profileDir);
  if (write) {
    const file = path.join(projectRoot(), 'bench', 'RESULTS.md');
    fs.writeFileSync(file, report.markdown(m, cfg.mode, elapsedMs / 1000));
    out(`\nwritten to ${path.relative(process.cwd(), file) || file}`);
  }
  return { report, elapsedMs, failures };
}

function parseArgs(argv: string[]): RunOptions {
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const smoke = argv.includes('--smoke');
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',').filter(Boolean);
  const profileDir = argv.includes('--profile') ? path.join(projectRoot(), 'dist', 'profiles') : undefined;
  return { mode: smoke ? 'smoke' : quick ? 'quick' : 'full', only, profileDir };
}

if (require.main === module) {
  runBench(parseArgs(process.argv.slice(2))).then(
    (r) => { process.exitCode = r.failures.length ? 1 : 0; },
    (err) => { console.error(err); process.exitCode = 1; },
  );
}
