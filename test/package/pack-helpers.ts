/**
 * Helpers for the packaging test: run npm like a user does, copy the source tree as a fresh clone has it (no dist/,
 * no node_modules of its own), and start a Node-RED whose user directory holds the installed tarball (not the link that
 * scripts/node-red-runner.ts's startNodeRed() puts there).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort, NodeRedProcess } from '../../scripts/node-red-runner';

export interface RunResult { code: number | null; stdout: string; stderr: string }

/**
 * The environment for a child npm: without the variables that `npm test` sets for its own script (npm_lifecycle_*,
 * npm_package_*, npm_config_local_prefix...), which would point a child npm at this project instead of its own folder.
 */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(lifecycle|package)_/i.test(k) || /^npm_config_(local_prefix|prefix|argv)$/i.test(k) || k === 'npm_command' || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  env.npm_config_update_notifier = 'false';
  return env;
}

/** Runs a command to its end (or kills it after `timeoutMs`), collecting its output. */
export function run(cmd: string, args: string[], opts: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      err.push(Buffer.from(`\n[killed after ${opts.timeoutMs} ms]`));
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120000);
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Folders a clone never has (they are in .gitignore), plus .git itself. */
const NOT_IN_A_CLONE = new Set(['node_modules', 'dist', '.demo', 'test-results', '.git', path.join('.ci', 'nr5')]);

/**
 * The files of the source tree that a commit of the current state would hold: `git ls-files` (tracked and untracked,
 * less what .gitignore excludes) where git knows the folder, otherwise a walk that leaves out the ignored folders.
 */
export function sourceFiles(root: string): string[] {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  if (git.status === 0 && git.stdout.length > 0) {
    return git.stdout.split('\0').filter((f) => f && fs.existsSync(path.join(root, f)) && fs.statSync(path.join(root, f)).isFile());
  }
  const files: string[] = [];
  (function walk(rel: string) {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = rel ? path.join(rel, e.name) : e.name;
      if (NOT_IN_A_CLONE.has(p) || e.name.endsWith('.log')) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push(p);
    }
  })('');
  return files;
}

/**
 * Copies the source tree of `root` into `dst` as a fresh clone has it, less the top-level folders in `leaveOut`, and
 * links `root`'s installed node_modules there.
 */
export function copyAsClone(root: string, dst: string, leaveOut: string[] = []): void {
  for (const f of sourceFiles(root)) {
    const top = f.split(/[\\/]/)[0];
    if (top === 'node_modules' || leaveOut.includes(top)) continue;
    fs.mkdirSync(path.dirname(path.join(dst, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(dst, f));
  }
  fs.symlinkSync(fs.realpathSync(path.join(root, 'node_modules')), path.join(dst, 'node_modules'), 'dir');
}

/**
 * Starts Node-RED (`red.js` of `nodeRedDir`, run by `nodeBinary`) with `userDir` as it is, on a free loopback port,
 * and waits until it listens.
 */
export async function startNodeRedIn(userDir: string, nodeRedDir: string, nodeBinary: string): Promise<NodeRedProcess> {
  const port = await freePort();
  const settings = path.join(userDir, 'settings.js');
  fs.writeFileSync(settings, `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: 'lwm2m-package-test',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false, projects: { enabled: false } },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  telemetry: { enabled: false },
  diagnostics: { enabled: false },
};
`);
  const child = spawn(nodeBinary, [path.join(nodeRedDir, 'red.js'), '--userDir', userDir, '--settings', settings], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...npmEnv(), NODE_RED_ENABLE_PROJECTS: 'false' },
  });
  const nr = new NodeRedProcess(child, port, userDir);
  let partial = '';
  const onData = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    nr.log.push(...lines);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  try {
    await nr.waitForLog(/Server now running at/, 60000);
  } catch (err) {
    await nr.stop();
    throw err;
  }
  return nr;
}

/** Markdown link and image targets, and the src of HTML images, in a README. */
export function readmeLinks(markdown: string): string[] {
  const out: string[] = [];
  const text = markdown.replace(/```[\s\S]*?```/g, '');
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
  for (const m of text.matchAll(/<img\s[^>]*src="([^"]+)"/gi)) out.push(m[1]);
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)) out.push(m[1]);
  return out;
}
