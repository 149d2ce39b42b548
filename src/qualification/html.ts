/**
 * The report as a self-contained HTML page: inline CSS, no script, no external resource; every value coming from the
 * device or the run is HTML-escaped.
 */
import { formatName } from '../content/formats';
import { DeviceTestReport, Evidence } from './types';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td{overflow-wrap:anywhere}.meta td:first-child{font-weight:600;width:180px}
.v{font-weight:700;text-transform:uppercase;white-space:nowrap}.v.pass,.sum .pass{color:#11703a}.v.fail,.sum .fail{color:#b3141b}.v.na,.sum .na{color:#777}
tr.fail td{background:#fff3f3}.ev{font:12px/1.3 ui-monospace,Menlo,Consolas,monospace;color:#333}
.ev td{border-color:#e3e3e3;padding:2px 4px}.sum span{margin-right:16px;font-weight:600}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
`;

function evidenceTable(ev: Evidence[]): string {
  if (ev.length === 0) return '';
  const rows = ev.map((e) => `<tr><td>${escapeHtml(e.operation)}</td><td>${escapeHtml(e.path ?? '')}</td><td>${escapeHtml(e.request ?? '')}</td>`
    + `<td>${escapeHtml(e.code ?? '')}</td><td>${e.format !== undefined ? escapeHtml(`${formatName(e.format)} (${e.format})`) : ''}</td>`
    + `<td>${escapeHtml(e.durationMs)} ms</td><td>${escapeHtml(e.answer ?? '')}</td></tr>`).join('');
  return `<table class="ev"><tr><th>operation</th><th>path</th><th>request</th><th>code</th><th>format</th><th>time</th><th>answer</th></tr>${rows}</table>`;
}

/** The report as one HTML page a supplier can archive (no external resources). */
export function renderReportHtml(report: DeviceTestReport): string {
  const d = report.device;
  const objects = Object.entries(d.objects).map(([id, inst]) => (inst.length ? `/${id}/${inst.join(',')}` : `/${id}`)).join(' ');
  const meta: Array<[string, unknown]> = [
    ['Endpoint', report.endpoint], ['Manufacturer', d.manufacturer ?? '—'], ['Model', d.model ?? '—'], ['Serial number', d.serial ?? '—'],
    ['Firmware version', d.firmware ?? '—'], ['LwM2M version', d.version], ['Binding', `${d.binding}${d.queueMode ? ' (queue mode)' : ''}`],
    ['Lifetime', `${d.lifetime} s`], ['Content formats', d.formats.map((f) => `${formatName(f)} (${f})`).join(', ')], ['Objects', objects],
    ['Started', report.startedAt], ['Finished', report.finishedAt],
    ['Options', `destructive: ${report.options.destructive}, pmin ${report.options.pmin} s, pmax ${report.options.pmax} s${report.options.cases ? `, cases: ${report.options.cases.join(', ')}` : ''}`],
  ];
  const rows = report.cases.map((c) => `<tr class="${escapeHtml(c.verdict)}"><td><code>${escapeHtml(c.id)}</code>${c.etsId && c.etsId !== c.id ? `<br><code>${escapeHtml(c.etsId)}</code>` : ''}</td>`
    + `<td>${escapeHtml(c.title)}<br><small>${escapeHtml(c.specRef)}</small></td><td class="v ${escapeHtml(c.verdict)}">${escapeHtml(c.verdict)}</td>`
    + `<td>${escapeHtml(c.reason)}${evidenceTable(c.evidence)}</td></tr>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>LwM2M device test: ${escapeHtml(report.endpoint)}</title><style>${CSS}</style></head>
<body>
<h1>LwM2M device test report</h1>
<div class="sum"><span class="pass">${report.summary.pass} pass</span><span class="fail">${report.summary.fail} fail</span><span class="na">${report.summary.na} not applicable</span></div>
<h2>Device</h2>
<table class="meta">${meta.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<h2>Cases</h2>
<p><small>Ids starting with <code>LightweightM2M-</code> are OMA Enabler Test Specification (Interoperability) cases; ids starting with <code>FW-</code> are this tool's own.</small></p>
<table><tr><th>id</th><th>case</th><th>verdict</th><th>reason and evidence</th></tr>
${rows}
</table>
</body></html>
`;
}
