import { ChildProcess, spawn } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as path from 'path';

/** Helpers for interop tests that run real peers (openssl, libcoap) as child processes on loopback. */

/** Absolute path of an executable on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A UDP port free on 127.0.0.1 right now (and `count - 1` following ports free too). */
export async function freeUdpPort(count = 1): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = dgram.createSocket('udp4');
    await new Promise<void>((r) => first.bind(0, '127.0.0.1', r));
    const base = first.address().port;
    const others: dgram.Socket[] = [];
    let ok = base + count - 1 <= 65535;
    for (let i = 1; ok && i < count; i++) {
      const s = dgram.createSocket('udp4');
      ok = await new Promise<boolean>((r) => {
        s.once('error', () => r(false));
        s.bind(base + i, '127.0.0.1', () => r(true));
      });
      others.push(s);
    }
    await Promise.all([first, ...others].map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    if (ok) return base;
  }
  throw new Error('no free UDP ports');
}

/** A child process whose output is collected; `kill()` always ends it (SIGKILL if SIGTERM is not enough). */
export class PeerProcess {
  output = '';
  exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => { this.output += d.toString('latin1'); });
    this.child.stderr?.on('data', (d: Buffer) => { this.output += d.toString('latin1'); });
    this.child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  write(s: string): void {
    this.child.stdin?.write(s);
  }

  /** Resolves when the output matches `re`; rejects after `ms` or when the process exits first. */
  async waitFor(re: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    let done = false;
    void this.exited.then(() => { done = true; });
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (done) throw new Error(`peer exited before ${re}; output:\n${this.output}`);
      if (Date.now() > end) throw new Error(`timeout waiting for ${re}; output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(t);
  }
}
