import { promises as fsp, createReadStream } from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { MemoryRegistrationStore } from './store';
import { internCt, internObjectLinks, Registration, SUPPORTED_VERSIONS } from './registration';
import { Observation } from './observation';
import { StoreError } from './errors';

export interface FileRegistrationStoreOptions {
  /**
   * Delay between a change and the write that persists it (changes in between are written together). Default 1000 ms.
   * Writes are also spaced so that writing takes at most a tenth of the time: a store whose write takes 2 s is written at
   * most every 20 s.
   */
  debounceMs?: number;
  /** Called when a background write fails (the next change retries). */
  onError?: (err: Error) => void;
}

const HEADER = { type: 'lwm2m-server-store', version: 1 };
/** Lines are written in batches of about this many characters. */
const CHUNK = 1 << 20;
/** A line longer than this is not ours: skip it rather than parse it. */
const MAX_LINE = 1 << 20;

function isRegistration(r: unknown): r is Registration {
  const x = r as Registration;
  return typeof x === 'object' && x !== null
    && typeof x.id === 'string' && typeof x.endpoint === 'string' && x.endpoint.length > 0
    && (SUPPORTED_VERSIONS as readonly string[]).includes(x.version)
    && Number.isInteger(x.lifetime) && x.lifetime > 0
    && typeof x.binding === 'string' && typeof x.queueMode === 'boolean'
    && typeof x.address === 'string' && Number.isInteger(x.port) && x.port > 0 && x.port < 65536
    && (x.family === 'IPv4' || x.family === 'IPv6')
    && typeof x.transport === 'string' && typeof x.secure === 'boolean'
    && (x.security === 'nosec' || x.security === 'psk')
    && (x.identity === undefined || typeof x.identity === 'string')
    && typeof x.rootPath === 'string' && typeof x.objectLinks === 'string'
    && (x.ct === undefined || (Array.isArray(x.ct) && x.ct.every((n) => Number.isInteger(n))))
    && Number.isFinite(x.registeredAt) && Number.isFinite(x.lastUpdateAt) && Number.isFinite(x.expiresAt);
}

function isObservation(o: unknown): o is Observation {
  const x = o as Observation;
  return typeof x === 'object' && x !== null
    && typeof x.id === 'string' && typeof x.token === 'string' && /^[0-9a-f]{0,16}$/.test(x.token)
    && typeof x.endpoint === 'string' && typeof x.registrationId === 'string'
    && Array.isArray(x.paths) && x.paths.length > 0 && x.paths.every((p) => typeof p === 'string')
    && typeof x.composite === 'boolean' && Number.isFinite(x.createdAt)
    && (x.format === undefined || Number.isInteger(x.format))
    && (x.owner === undefined || typeof x.owner === 'string');
}

/**
 * A {@link MemoryRegistrationStore} persisted to one file, so a restart (a Node-RED redeploy) keeps the devices and
 * their observations. The file holds one JSON object per line (a header, then `{"r":registration}` and
 * `{"o":observation}` lines), written in chunks (no giant string for a million devices), debounced, and atomically
 * replaced (written to a temporary file in the same folder, then renamed over the old one).
 */
export class FileRegistrationStore extends MemoryRegistrationStore {
  private readonly debounceMs: number;
  /** Called when a background write fails (the server sets it to its 'warning' event when left unset). */
  onError: ((err: Error) => void) | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;
  private loading = false;
  private tmpCounter = 0;
  private lastWriteEnd = 0;
  private lastWriteMs = 0;
  /** Lines of the file that could not be used when it was loaded (corrupt, or not ours). */
  skippedLines = 0;
  /** Temporary files of interrupted writes that {@link open} removed. */
  removedTemporaries = 0;

  constructor(readonly file: string, opts: FileRegistrationStoreOptions = {}) {
    super();
    this.debounceMs = opts.debounceMs ?? 1000;
    this.onError = opts.onError;
  }

  /**
   * Loads the file (a missing file is an empty store). Throws StoreError when the file exists but is not a store file.
   * First removes the temporaries that interrupted writes left beside it.
   */
  async open(): Promise<void> {
    this.closed = false;
    await this.removeStaleTemporaries();
    let stream;
    try {
      await fsp.access(this.file);
    } catch {
      return; // nothing persisted yet
    }
    const registrations: Registration[] = [];
    const observations: Observation[] = [];
    let first = true;
    this.skippedLines = 0;
    try {
      stream = createReadStream(this.file, { encoding: 'utf8' });
      const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
      for await (const line of rl) {
        if (line.length === 0) continue;
        if (line.length > MAX_LINE) {
          this.skippedLines++;
          continue;
        }
        let obj: unknown;
        try {
          obj = JSON.parse(line);
        } catch {
          if (first) throw new StoreError(this.file, 'not a registration store file (first line is not JSON)');
          this.skippedLines++;
          continue;
        }
        if (first) {
          first = false;
          const h = obj as typeof HEADER;
          if (typeof h !== 'object' || h === null || h.type !== HEADER.type) {
            throw new StoreError(this.file, 'not a registration store file (missing header)');
          }
          if (h.version !== HEADER.version) throw new StoreError(this.file, `unsupported store file version ${String(h.version)}`);
          continue;
        }
        const rec = obj as { r?: unknown; o?: unknown };
        if (rec && isRegistration(rec.r)) {
          const r = rec.r;
          r.objectLinks = internObjectLinks(r.objectLinks);
          if (r.ct !== undefined) r.ct = internCt(r.ct);
          registrations.push(r);
        }
        else if (rec && isObservation(rec.o)) observations.push(rec.o);
        else this.skippedLines++;
      }
    } catch (err) {
      stream?.destroy();
      if (err instanceof StoreError) throw err;
      throw new StoreError(this.file, `cannot read: ${(err as Error).message}`, { cause: err });
    }
    this.loading = true;
    try {
      this.restore(registrations, observations);
    } finally {
      this.loading = false;
    }
  }

  protected override changed(): void {
    if (this.loading) return;
    this.dirty = true;
    if (this.timer || this.closed) return;
    const spacing = Math.max(0, this.lastWriteEnd + this.lastWriteMs * 9 - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: Error) => this.onError?.(err));
    }, Math.max(this.debounceMs, spacing));
    this.timer.unref();
  }

  /** Writes pending changes now; resolves when the file on disk holds them. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.dirty || this.writing) {
      if (this.writing) {
        await this.writing.catch(() => undefined);
        continue;
      }
      this.dirty = false;
      const started = Date.now();
      this.writing = this.write();
      try {
        await this.writing;
      } catch (err) {
        this.dirty = true;
        throw err;
      } finally {
        this.writing = undefined;
        this.lastWriteEnd = Date.now();
        this.lastWriteMs = this.lastWriteEnd - started;
      }
    }
  }

  /** Flushes and stops writing. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /**
   * A write goes to `.<name>.<pid>.<n>.tmp` and is renamed over the file when complete; a process killed in between
   * (a crash, a kill -9, a power cut) leaves the temporary behind, as large as the store. Nothing else ever renames or
   * removes it, so each one would stay for good. The file has one writer (two stores writing one file would replace
   * each other's state anyway), and it is not writing while it opens: every temporary of this file is stale here.
   * Only names of exactly that shape are touched (`.<name>.<digits>.<digits>.tmp`), never another store's.
   */
  private async removeStaleTemporaries(): Promise<void> {
    this.removedTemporaries = 0;
    const dir = path.dirname(this.file);
    const prefix = `.${path.basename(this.file)}.`;
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return; // no folder yet: nothing was written
    }
    for (const name of names) {
      if (!name.startsWith(prefix) || !/^\d+\.\d+\.tmp$/.test(name.slice(prefix.length))) continue;
      try {
        await fsp.unlink(path.join(dir, name));
        this.removedTemporaries++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.onError?.(new StoreError(this.file, `cannot remove the stale temporary ${name}: ${(err as Error).message}`, { cause: err }));
        }
      }
    }
  }

  private async write(): Promise<void> {
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${++this.tmpCounter}.tmp`);
    let fh: fsp.FileHandle | undefined;
    try {
      await fsp.mkdir(dir, { recursive: true });
      fh = await fsp.open(tmp, 'w', 0o600);
      let chunk = JSON.stringify({ ...HEADER, savedAt: Date.now() }) + '\n';
      for (const r of this.all()) {
        chunk += '{"r":' + JSON.stringify(r) + '}\n';
        if (chunk.length >= CHUNK) {
          await fh.write(chunk);
          chunk = '';
        }
      }
      for (const o of this.allObservations()) {
        chunk += '{"o":' + JSON.stringify(o) + '}\n';
        if (chunk.length >= CHUNK) {
          await fh.write(chunk);
          chunk = '';
        }
      }
      if (chunk) await fh.write(chunk);
      await fh.sync();
      await fh.close();
      fh = undefined;
      await fsp.rename(tmp, this.file);
    } catch (err) {
      if (fh) await fh.close().catch(() => undefined);
      await fsp.unlink(tmp).catch(() => undefined);
      throw new StoreError(this.file, `cannot write: ${(err as Error).message}`, { cause: err });
    }
  }
}
