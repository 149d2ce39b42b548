/**
 * Reads a V8 CPU profile (`--cpu-prof`) and lists where the time went: self time per function (file:line), and total
 * (inclusive) time per source file of the project, as shares of the profiled busy time (idle and GC listed apart).
 */
import * as fs from 'fs';
import * as path from 'path';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileRow { name: string; where: string; selfMs: number; share: number }
export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  gcMs: number;
  busyMs: number;
  /** Self time per function, highest first. */
  functions: ProfileRow[];
  /** Inclusive time per file (a file counted once per sample), highest first. */
  files: ProfileRow[];
  /** Inclusive time per function of the project's src/ (a function counted once per sample), highest first. */
  projectFunctions: ProfileRow[];
}

function shortUrl(url: string, root: string): string {
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(root)) u = u.slice(root.length + 1);
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm + 'node_modules/'.length);
  return u || '(native)';
}

export function summarizeProfile(file: string, root: string): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  let totalMs = 0;
  let idleMs = 0;
  let gcMs = 0;
  const fnSelf = new Map<string, ProfileRow>();
  const fileTotal = new Map<string, number>();
  const projTotal = new Map<string, ProfileRow>();
  for (const [id, ms] of self) {
    totalMs += ms;
    const n = byId.get(id)!;
    const fnName = n.callFrame.functionName || '(anonymous)';
    if (fnName === '(idle)') { idleMs += ms; continue; }
    if (fnName === '(garbage collector)') gcMs += ms;
    const where = n.callFrame.url ? `${shortUrl(n.callFrame.url, root)}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${fnName}@${where}`;
    const row = fnSelf.get(key) ?? { name: fnName, where, selfMs: 0, share: 0 };
    row.selfMs += ms;
    fnSelf.set(key, row);
    // inclusive per file: every distinct file on the stack of this sample
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (!cf.url) continue;
      const f = shortUrl(cf.url, root);
      if (/(^|\/)src\//.test(f)) {
        const k = `${cf.functionName || '(anonymous)'}@${f}:${cf.lineNumber + 1}`;
        if (!seen.has(k)) {
          seen.add(k);
          const row = projTotal.get(k) ?? { name: cf.functionName || '(anonymous)', where: `${f}:${cf.lineNumber + 1}`, selfMs: 0, share: 0 };
          row.selfMs += ms;
          projTotal.set(k, row);
        }
      }
      if (seen.has(f)) continue;
      seen.add(f);
      fileTotal.set(f, (fileTotal.get(f) ?? 0) + ms);
    }
  }
  const busyMs = totalMs - idleMs;
  const functions = [...fnSelf.values()].map((r) => ({ ...r, share: r.selfMs / busyMs })).sort((a, b) => b.selfMs - a.selfMs);
  const files = [...fileTotal].map(([f, ms]) => ({ name: f, where: '', selfMs: ms, share: ms / busyMs })).sort((a, b) => b.selfMs - a.selfMs);
  const projectFunctions = [...projTotal.values()].map((r) => ({ ...r, share: r.selfMs / busyMs })).sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs, idleMs, gcMs, busyMs, functions, files, projectFunctions };
}

export function printProfile(file: string, root: string, out: (l: string) => void, top = 25): void {
  const s = summarizeProfile(file, root);
  out(`profile ${path.basename(file)}: busy ${s.busyMs.toFixed(0)} ms of ${s.totalMs.toFixed(0)} ms, GC ${(100 * s.gcMs / s.busyMs).toFixed(1)}% of busy`);
  out('  self time by function:');
  for (const r of s.functions.slice(0, top)) out(`    ${(100 * r.share).toFixed(1).padStart(5)}%  ${r.name}  ${r.where}`);
  out('  inclusive time by function of src/:');
  for (const r of s.projectFunctions.slice(0, top)) out(`    ${(100 * r.share).toFixed(1).padStart(5)}%  ${r.name}  ${r.where}`);
  out('  inclusive time by file:');
  for (const r of s.files.filter((f) => f.name !== '(native)').slice(0, top)) out(`    ${(100 * r.share).toFixed(1).padStart(5)}%  ${r.name}`);
}
