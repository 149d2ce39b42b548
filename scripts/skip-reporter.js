'use strict';
// A node:test reporter that writes one JSON line per skipped test or suite (name, file, reason), so that
// scripts/run-tests.js can name every skip with its reason (TAP's summary counts a skipped suite's tests as neither
// passed nor skipped), and CI can fail when a suite it is meant to run was skipped.
module.exports = async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    if (d.skip === undefined || d.skip === false) continue;
    yield JSON.stringify({
      name: d.name,
      file: d.file,
      kind: d.details && d.details.type === 'suite' ? 'suite' : 'test',
      reason: typeof d.skip === 'string' ? d.skip : '(no reason given)',
    }) + '\n';
  }
};
