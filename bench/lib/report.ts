/**
 * What a run prints: sections as they run, then a summary table (figure | value | baseline | ratio | target), and the
 * same table as Markdown for bench/RESULTS.md.
 */
import * as os from 'os';
import { fmt, fmtBytes, fmtSummary, ratio, Summary, summarize } from './stats';

export interface Target {
  /** The ratio to the baseline must be at least this. */
  minRatio?: number;
  /** The value must be at most this (memory). */
  maxValue?: number;
  /** The value must be at least this (counts). */
  minValue?: number;
  text: string;
}

export interface Figure {
  /** Stable key, for tests and for other figures' baselines. */
  key: string;
  section: string;
  name: string;
  unit: string;
  values: number[];
  summary: Summary;
  /** Key of the figure this one is compared with (its median is the baseline). */
  baselineKey?: string;
  /** A fixed baseline (a budget), when not another figure. */
  baselineFixed?: { name: string; value: number };
  /**
   * A baseline measured right before each repetition (same index): the ratio is then the median of the per-repetition
   * ratios, which a busy machine disturbs much less than a ratio of medians taken minutes apart.
   */
  paired?: { name: string; values: number[] };
  target?: Target;
  /** 'bytes' prints KiB/MiB. */
  format?: 'number' | 'bytes' | 'yesno';
  note?: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  memory: string;
  date: string;
  /** 1-minute load average when the run started: other work on the machine disturbs the figures. */
  loadAverage: number;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    memory: fmtBytes(os.totalmem()),
    date: new Date().toISOString(),
    loadAverage: os.loadavg()[0],
  };
}

export class Report {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];
  readonly skipped: Array<{ section: string; reason: string }> = [];
  private section = '';

  constructor(private readonly out: (line: string) => void = (l) => console.log(l)) {}

  begin(title: string): void {
    this.section = title;
    this.out('');
    this.out(`== ${title} ==`);
  }

  line(text: string): void {
    this.out('   ' + text);
  }

  note(text: string): void {
    this.notes.push(`${this.section}: ${text}`);
    this.line(text);
  }

  skip(reason: string): void {
    this.skipped.push({ section: this.section, reason });
    this.line(`skipped: ${reason}`);
  }

  add(f: Omit<Figure, 'summary' | 'section'>): Figure {
    const fig: Figure = { ...f, section: this.section, summary: summarize(f.values) };
    this.figures.push(fig);
    const b = this.baselineOf(fig);
    const r = this.ratioOf(fig);
    const tail = b ? `   ${Number.isFinite(r) ? fmtRatio(r) : '—'} of ${b.name}${fig.paired ? ' (paired repetitions)' : ''}` : '';
    this.out(`   ${fig.name}: ${this.valueText(fig)}${tail}${fig.note ? `   [${fig.note}]` : ''}`);
    return fig;
  }

  get(key: string): Figure | undefined {
    return this.figures.find((f) => f.key === key);
  }

  /** Ratio to the baseline: median of paired ratios, or ratio of medians. */
  ratioOf(f: Figure): number {
    if (f.paired) {
      const rs = f.values.map((v, i) => ratio(v, f.paired!.values[i])).filter((x) => Number.isFinite(x));
      return rs.length ? summarize(rs).median : NaN;
    }
    const b = this.baselineOf(f);
    return b ? ratio(f.summary.median, b.value) : NaN;
  }

  private baselineOf(f: Figure): { name: string; value: number } | undefined {
    if (f.paired) return { name: f.paired.name, value: summarize(f.paired.values).median };
    if (f.baselineFixed) return f.baselineFixed;
    if (!f.baselineKey) return undefined;
    const b = this.get(f.baselineKey);
    return b ? { name: b.name, value: b.summary.median } : undefined;
  }

  private valueText(f: Figure): string {
    if (f.format === 'yesno') return f.summary.median >= 1 ? 'yes' : 'no';
    if (f.format === 'bytes') {
      const s = f.summary;
      return s.n > 1 ? `${fmtBytes(s.median)} (${fmtBytes(s.min)}–${fmtBytes(s.max)}, n=${s.n})` : fmtBytes(s.median);
    }
    return fmtSummary(f.summary, f.unit);
  }

  /** Met / missed / '' (no target, or nothing to compare). */
  verdict(f: Figure): string {
    const t = f.target;
    if (!t) return '';
    const v = f.summary.median;
    if (!Number.isFinite(v)) return '';
    if (t.minRatio !== undefined) {
      const r = this.ratioOf(f);
      if (!Number.isFinite(r)) return '';
      return r >= t.minRatio ? 'met' : 'MISSED';
    }
    if (t.maxValue !== undefined) return v <= t.maxValue ? 'met' : 'MISSED';
    if (t.minValue !== undefined) return v >= t.minValue ? 'met' : 'MISSED';
    return '';
  }

  rows(): string[][] {
    return this.figures.map((f) => {
      const b = this.baselineOf(f);
      const r = this.ratioOf(f);
      return [
        f.name,
        this.valueText(f),
        b ? `${b.name}: ${f.format === 'bytes' ? fmtBytes(b.value) : fmt(b.value)}${f.paired ? ' (paired)' : ''}` : '',
        Number.isFinite(r) ? fmtRatio(r) : '',
        f.target ? f.target.text : '',
        this.verdict(f),
      ];
    });
  }

  /** The summary table, as aligned text. */
  table(): string {
    const head = ['figure', 'value (median, min–max)', 'baseline', 'ratio', 'target', ''];
    const rows = [head, ...this.rows()];
    const widths = head.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]): string => r.map((x, c) => x.padEnd(widths[c])).join(' | ').trimEnd();
    return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...this.rows().map(line)].join('\n');
  }

  markdown(m: Machine, mode: string, elapsedS: number): string {
    const esc = (s: string): string => s.replace(/\|/g, '\\|');
    const lines = [
      '# Benchmark results',
      '',
      `Last full run of \`npm run bench\` (${mode} mode, ${elapsedS.toFixed(0)} s), written by bench/run.ts. Figures are`,
      'medians of the repetitions with their min–max. Ratios marked (paired) are medians of per-repetition ratios, the',
      'baseline measured right before each repetition; the others are ratios of medians measured in the same run.',
      '',
      `- Machine: ${m.cpus} CPUs (\`nproc\`), ${m.cpuModel}, ${m.memory} RAM, ${m.platform}`,
      `- Node.js ${m.node}`,
      `- Date: ${m.date}`,
      `- 1-minute load average: ${m.loadAverage.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (a value above the CPU`,
      '  count means other work shared the machine: the per-repetition lines of the run show a server process below 100% of',
      '  a core where it was starved; paired ratios and CPU time per operation are the figures it disturbs least)',
      '',
      '| figure | value | baseline | ratio | target | |',
      '|---|---|---|---|---|---|',
      ...this.rows().map((r) => `| ${r.map(esc).join(' | ')} |`),
      '',
    ];
    if (this.notes.length) lines.push('Notes:', '', ...this.notes.map((n) => `- ${n}`), '');
    if (this.skipped.length) lines.push('Skipped:', '', ...this.skipped.map((s) => `- ${s.section}: ${s.reason}`), '');
    return lines.join('\n');
  }
}

function fmtRatio(r: number): string {
  return r >= 10 ? `${r.toFixed(0)}×` : r >= 1 ? `${r.toFixed(2)}×` : `${(r * 100).toFixed(0)}%`;
}
