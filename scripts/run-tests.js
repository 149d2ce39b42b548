'use strict';
// Runs every built *.test.js under dist/test with Node's test runner (helpers and fixtures beside them are not tests).
// `npm test -- content` runs only the test files whose path contains "content".
//
// Around the run:
// - the port guard (scripts/port-guard.js) listens on udp 5683/5684 and tcp 1880 on loopback: a test that sends there
//   fails the run (tests use ephemeral ports only; a user's demo or server may be listening on the well-known ones);
// - every skipped test or suite is listed with its reason; under CI (CI=true) a skip fails the run, since CI installs
//   every peer the suites need (LWM2M_ALLOW_SKIP=1 lets a local run with CI=true pass anyway).
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startPortGuard } = require('./port-guard');

const root = path.join(__dirname, '..');
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})(path.join(root, 'dist', 'test'));
files.sort();
if (files.length === 0) {
  console.error('no test files found under dist/test' + (filters.length ? ` matching ${filters.join(', ')}` : ''));
  process.exit(1);
}

async function main() {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  const guard = await startPortGuard();
  if (guard.notWatched.length > 0) {
    console.log(`port guard: could not listen on ${guard.notWatched.join(', ')} (another program holds them): sends there are not checked`);
  }
  const skipFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-skips-')), 'skips.jsonl');
  const main = process.stdout.isTTY ? 'spec' : 'tap';
  const args = ['--test', '--test-concurrency=2',
    `--test-reporter=${main}`, '--test-reporter-destination=stdout',
    `--test-reporter=${path.join(__dirname, 'skip-reporter.js')}`, `--test-reporter-destination=${skipFile}`,
    ...files];
  const status = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root });
    child.on('exit', (code, signal) => resolve(code === null ? (signal ? 1 : 1) : code));
  });
  await guard.stop();

  let failed = status !== 0;
  const skips = fs.existsSync(skipFile) ? fs.readFileSync(skipFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  fs.rmSync(path.dirname(skipFile), { recursive: true, force: true });
  console.log('');
  if (skips.length === 0) console.log('skipped: none');
  for (const s of skips) {
    const where = s.file ? ` (${path.relative(root, s.file)})` : '';
    console.log(`skipped ${s.kind}: ${s.name}${where}: ${s.reason}`);
  }
  if (skips.length > 0 && ci && process.env.LWM2M_ALLOW_SKIP !== '1') {
    console.log(`CI: ${skips.length} test(s)/suite(s) were skipped, but CI installs every peer they need: failing the run`);
    failed = true;
  }
  if (guard.hits.length > 0) {
    console.log(`port guard: ${guard.hits.length} message(s) reached a well-known port during the tests (tests must use ephemeral ports):`);
    for (const h of guard.hits.slice(0, 20)) console.log(`  ${h}`);
    failed = true;
  } else if (guard.notWatched.length === 0) {
    console.log('port guard: nothing was sent to udp 5683/5684 or tcp 1880 during the tests');
  } else if (ci) {
    console.log('CI: the port guard could not watch every well-known port, so the run proves nothing about them: failing');
    failed = true;
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
