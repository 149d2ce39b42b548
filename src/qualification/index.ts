/**
 * Device qualification: a suite of server-side interoperability cases run against a registered device, with a report
 * (JSON object and self-contained HTML page).
 */
export { runDeviceTest, plannedCases, deviceFormats } from './runner';
export { renderReportHtml, escapeHtml } from './html';
export { ALL_CASES, suiteFor } from './cases';
export type {
  Verdict, Evidence, CaseResult, DeviceInfoReport, DeviceTestReport, DeviceTestOptions, DeviceTestProgress, TestCase, CaseContext, CaseOutcome,
} from './types';
