/**
 * The process under test runs apart from the load generator (its own event loop, its own core on a 2-core machine):
 * {@link spawnWorker} forks `bench/host/worker` and talks to it by RPC over the IPC channel. The worker side is
 * {@link serveRpc}.
 */
import { ChildProcess, fork } from 'child_process';
import * as path from 'path';

export interface WorkerOptions {
  /** V8 old space limit, MiB (the 1,000,000-registration run needs a few GiB). */
  maxOldSpaceMb?: number;
  /** Name for error messages. */
  name?: string;
  /** Silence process warnings (the peer's dependencies print deprecation warnings). */
  quiet?: boolean;
  /** A call that has not answered after this long rejects (default 10 minutes): a stuck worker must not hang the run. */
  callTimeoutMs?: number;
}

/** When set (run.ts --profile), every worker writes a V8 CPU profile there when it exits. */
export const profiling: { dir?: string } = {};
let profileSeq = 0;

export interface Worker {
  readonly pid: number;
  readonly name: string;
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  /** Asks the worker to exit; kills it (by pid, it is ours) if it does not within a few seconds. */
  stop(): Promise<void>;
}

interface RpcRequest { id: number; method: string; args: unknown[] }
interface RpcReply { id: number; result?: unknown; error?: { message: string; stack?: string } }

/**
 * Loader flags of this process (tsx registers itself with --require/--import), so that a worker forked from a .ts
 * file runs .ts too. Test-runner flags are left out.
 */
function loaderArgs(): string[] {
  const out: string[] = [];
  const a = process.execArgv;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (/^--(require|import|loader|experimental-loader)=/.test(x)) out.push(x);
    else if (x === '-r' || x === '--require' || x === '--import' || x === '--loader' || x === '--experimental-loader') {
      if (i + 1 < a.length) out.push(x, a[++i]);
    }
  }
  return out;
}

/** The worker script beside this file's folder: `bench/host/worker.ts` under tsx, `dist/bench/host/worker.js` built. */
function workerScript(): string {
  const ext = path.extname(__filename) || '.js';
  return path.join(__dirname, '..', 'host', 'worker' + ext);
}

export function spawnWorker(opts: WorkerOptions = {}): Promise<Worker> {
  const name = opts.name ?? 'worker';
  const callTimeoutMs = opts.callTimeoutMs ?? 600_000;
  const execArgv = [...loaderArgs(), '--expose-gc'];
  if (opts.maxOldSpaceMb) execArgv.push(`--max-old-space-size=${opts.maxOldSpaceMb}`);
  // One folder per worker: under tsx, the loader thread writes a profile of its own next to the main thread's.
  if (profiling.dir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${path.join(profiling.dir, `${String(++profileSeq).padStart(2, '0')}-${name}`)}`);
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // the worker is not a test file
  delete env.NODE_OPTIONS;
  if (opts.quiet) env.NODE_NO_WARNINGS = '1';
  const child: ChildProcess = fork(workerScript(), [], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  let nextId = 1;
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${name} exited (${signal ?? code}) during ${p.method}`));
      pending.clear();
      resolve();
    });
  });
  child.on('message', (m: RpcReply | { ready: true }) => {
    if ('ready' in m) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) {
      const e = new Error(`${name}.${p.method}: ${m.error.message}`);
      if (m.error.stack) e.stack = `${e.message}\n  (in ${name}) ${m.error.stack}`;
      p.reject(e);
    } else p.resolve(m.result);
  });
  const worker: Worker = {
    get pid() { return child.pid ?? -1; },
    name,
    call<T>(method: string, ...args: unknown[]): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}.${method}: no answer within ${callTimeoutMs} ms`));
        }, callTimeoutMs);
        const settle = <A>(fn: (a: A) => void) => (a: A): void => { clearTimeout(timer); fn(a); };
        pending.set(id, { resolve: settle(resolve as (v: unknown) => void), reject: settle(reject), method });
        child.send({ id, method, args } satisfies RpcRequest);
      });
    },
    async stop(): Promise<void> {
      if (exited) return;
      try { child.send({ id: 0, method: '__exit', args: [] }); } catch { /* channel closed */ }
      const timer = setTimeout(() => { if (!exited && child.pid) process.kill(child.pid, 'SIGKILL'); }, 5000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  return new Promise<Worker>((resolve, reject) => {
    const onReady = (m: unknown): void => {
      if (m && typeof m === 'object' && 'ready' in m) {
        child.off('message', onReady);
        resolve(worker);
      }
    };
    child.on('message', onReady);
    child.once('error', reject);
    exitPromise.then(() => reject(new Error(`${name} exited before it was ready`)));
  });
}

export type Handlers = Record<string, (...args: any[]) => unknown>;

/** Worker side: answers RPC calls with the handlers; `__exit` closes what `onExit` closes and exits. */
export function serveRpc(handlers: Handlers, onExit: () => Promise<void>): void {
  process.on('message', (m: RpcRequest) => {
    if (m.method === '__exit') {
      onExit().catch(() => undefined).finally(() => process.exit(0));
      return;
    }
    const h = handlers[m.method];
    const reply = (r: Omit<RpcReply, 'id'>): void => {
      if (process.connected) process.send!({ id: m.id, ...r });
    };
    if (!h) {
      reply({ error: { message: `no such method ${m.method}` } });
      return;
    }
    Promise.resolve()
      .then(() => h(...m.args))
      .then((result) => reply({ result }), (err: Error) => reply({ error: { message: err?.message ?? String(err), stack: err?.stack } }));
  });
  // The parent went away: do not linger.
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true });
}
