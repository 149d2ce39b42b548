/**
 * Repetitions of one figure: median and spread. Figures are printed, never asserted.
 */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation). */
  q1: number;
  q3: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return {
    n: xs.length,
    median: quantile(xs, 0.5),
    min: xs.length ? xs[0] : NaN,
    max: xs.length ? xs[xs.length - 1] : NaN,
    q1: quantile(xs, 0.25),
    q3: quantile(xs, 0.75),
  };
}

/** 1234567 -> "1.23M", 15320 -> "15.3k", 0.0123 -> "0.0123". */
export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toPrecision(digits) + 'G';
  if (a >= 1e6) return (v / 1e6).toPrecision(digits) + 'M';
  if (a >= 1e4) return (v / 1e3).toPrecision(digits) + 'k';
  if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
  if (a === 0) return '0';
  return v.toPrecision(digits);
}

export function fmtBytes(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1024 ** 3) return (v / 1024 ** 3).toFixed(2) + ' GiB';
  if (a >= 1024 ** 2) return (v / 1024 ** 2).toFixed(1) + ' MiB';
  if (a >= 10 * 1024) return (v / 1024).toFixed(1) + ' KiB';
  return v.toFixed(0) + ' B';
}

/** "15.3k (14.9k–15.8k, n=5)" */
export function fmtSummary(s: Summary, unit = ''): string {
  const u = unit ? ' ' + unit : '';
  if (s.n === 0) return '—';
  if (s.n === 1) return `${fmt(s.median)}${u}`;
  return `${fmt(s.median)}${u} (${fmt(s.min)}–${fmt(s.max)}, n=${s.n})`;
}

/** Median of per-repetition ratios is not the ratio of medians; we report the ratio of medians, like the issue asks. */
export function ratio(value: number, baseline: number): number {
  return Number.isFinite(value) && Number.isFinite(baseline) && baseline !== 0 ? value / baseline : NaN;
}
