/**
 * Object definitions (DDF) fetched from the OMA LwM2M registry on demand, when a device announces an object no model
 * knows, and cached in the Node-RED user directory so each object is fetched once.
 *
 * Off by default: nothing leaves the machine unless the user turns it on (settings.js `lwm2m: { downloadModels: true }`).
 * The fetch is injectable (tests serve files from a local HTTP server); the default one speaks http(s) with a timeout
 * and a size cap, and refuses anything but a 200.
 */
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { MAX_DDF_BYTES, parseDdf } from '../../src/model/ddf';
import { MAX_ID } from '../../src/model/path';
import { ObjectDef } from '../../src/model/types';
import { Lwm2mError } from '../../src/errors';
import { ModelDownloadError } from './errors';

/** The OMA registry's published DDF files: `<base><objectId>.xml` is the object's newest version. */
export const OMA_REGISTRY_URL = 'https://raw.githubusercontent.com/OpenMobileAlliance/lwm2m-registry/prod/';

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
}

/** Fetches a URL's body. Rejects with {@link ModelDownloadError} (status other than 200, too large, timeout...). */
export type FetchFn = (url: string, opts: FetchOptions) => Promise<Buffer>;

export interface ModelDownloaderOptions {
  /** Where downloaded DDF files are kept, e.g. `<userDir>/lwm2m/models`. */
  cacheDir: string;
  /** Download at all (default false: only the cache is used). */
  enabled?: boolean;
  /** Registry base URL, ending with `/` (default {@link OMA_REGISTRY_URL}). */
  baseUrl?: string;
  fetch?: FetchFn;
  timeoutMs?: number;
  /** After a failed download, the object is not asked for again before this long (default 1 h). */
  retryAfterMs?: number;
  /** Downloads waiting at once; more are refused until the queue drains (default 32). */
  maxPending?: number;
  now?: () => number;
}

export type ModelStatus = 'known' | 'cached' | 'downloading' | 'failed' | 'off' | 'absent';

function checkId(objectId: unknown): number {
  if (typeof objectId !== 'number' || !Number.isInteger(objectId) || objectId < 0 || objectId > MAX_ID) {
    throw new ModelDownloadError(`object ${String(objectId)}`, `object ids are integers from 0 to ${MAX_ID}`);
  }
  return objectId;
}

/** The default fetch: one GET over http or https, following up to 3 redirects, with a deadline and a size cap. */
export function httpFetch(url: string, opts: FetchOptions, redirects = 3): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new ModelDownloadError(url, 'not a URL'));
      return;
    }
    const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!lib) {
      reject(new ModelDownloadError(url, `protocol ${u.protocol} is not http or https`));
      return;
    }
    const req = lib.get(u, { headers: { Accept: 'application/xml, text/xml, */*' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        httpFetch(new URL(res.headers.location, u).toString(), opts, redirects - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new ModelDownloadError(url, status === 404 ? 'not in the registry (404)' : `HTTP ${status}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        res.destroy();
        reject(new ModelDownloadError(url, `larger than ${opts.maxBytes} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxBytes) {
          res.destroy();
          reject(new ModelDownloadError(url, `larger than ${opts.maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', (err) => reject(new ModelDownloadError(url, err.message, { cause: err })));
    });
    req.setTimeout(opts.timeoutMs, () => req.destroy(new ModelDownloadError(url, `no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof ModelDownloadError ? err : new ModelDownloadError(url, err.message, { cause: err })));
  });
}

export class ModelDownloader {
  readonly cacheDir: string;
  readonly baseUrl: string;
  enabled: boolean;
  private readonly fetchFn: FetchFn;
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  /** Definitions read from the cache folder or downloaded, by object id. */
  private readonly defs = new Map<number, ObjectDef[]>();
  private readonly inFlight = new Map<number, Promise<ObjectDef[]>>();
  /** Object id -> when it may be tried again, and why it failed. */
  private readonly failed = new Map<number, { until: number; reason: string }>();
  private cacheRead: Promise<void> | undefined;

  constructor(opts: ModelDownloaderOptions) {
    this.cacheDir = opts.cacheDir;
    this.enabled = opts.enabled === true;
    this.baseUrl = opts.baseUrl ?? OMA_REGISTRY_URL;
    if (!this.baseUrl.endsWith('/')) this.baseUrl += '/';
    this.fetchFn = opts.fetch ?? httpFetch;
    this.timeoutMs = opts.timeoutMs ?? 15000;
    this.retryAfterMs = opts.retryAfterMs ?? 3_600_000;
    this.maxPending = opts.maxPending ?? 32;
    this.now = opts.now ?? Date.now;
  }

  /** Reads every `<id>.xml` of the cache folder once (a missing folder is an empty cache). Bad files are skipped. */
  loadCache(): Promise<void> {
    this.cacheRead ??= (async () => {
      let names: string[];
      try {
        names = await fsp.readdir(this.cacheDir);
      } catch {
        return;
      }
      for (const n of names) {
        const m = /^(\d{1,5})\.xml$/.exec(n);
        if (!m || Number(m[1]) > MAX_ID) continue;
        try {
          const buf = await fsp.readFile(path.join(this.cacheDir, n));
          const defs = parseDdf(buf, path.join(this.cacheDir, n)).filter((d) => d.id === Number(m[1]));
          if (defs.length > 0) this.defs.set(Number(m[1]), defs);
        } catch {
          // A damaged cache file is ignored (and replaced by the next download).
        }
      }
    })();
    return this.cacheRead;
  }

  /** Every definition held (cached or downloaded). */
  all(): ObjectDef[] {
    return [...this.defs.values()].flat();
  }

  get(objectId: number): ObjectDef[] | undefined {
    return this.defs.get(objectId);
  }

  status(objectId: number): ModelStatus {
    if (this.defs.has(objectId)) return 'cached';
    if (this.inFlight.has(objectId)) return 'downloading';
    const f = this.failed.get(objectId);
    if (f && f.until > this.now()) return 'failed';
    return this.enabled ? 'absent' : 'off';
  }

  /** Why the last download of an object failed (while it is not retried). */
  failure(objectId: number): string | undefined {
    const f = this.failed.get(objectId);
    return f && f.until > this.now() ? f.reason : undefined;
  }

  /**
   * The object's definitions: from memory, the cache folder, or (when enabled) the registry, written to the cache.
   * Concurrent calls for one object share one download.
   * @throws {ModelDownloadError} when downloading is off, recently failed, the queue is full, or the download fails
   */
  ensure(objectId: number): Promise<ObjectDef[]> {
    let id: number;
    try {
      id = checkId(objectId);
    } catch (err) {
      return Promise.reject(err);
    }
    const have = this.defs.get(id);
    if (have) return Promise.resolve(have);
    const running = this.inFlight.get(id);
    if (running) return running;
    const source = `object ${id}`;
    const f = this.failed.get(id);
    if (f && f.until > this.now()) return Promise.reject(new ModelDownloadError(source, `${f.reason} (not retried before ${new Date(f.until).toISOString()})`));
    if (this.inFlight.size >= this.maxPending) return Promise.reject(new ModelDownloadError(source, `${this.maxPending} downloads already waiting`));
    const p = this.fetchOne(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  private async fetchOne(id: number): Promise<ObjectDef[]> {
    const file = path.join(this.cacheDir, `${id}.xml`);
    try {
      const defs = parseDdf(await fsp.readFile(file), file).filter((d) => d.id === id);
      if (defs.length > 0) {
        this.defs.set(id, defs);
        return defs;
      }
    } catch {
      // not cached (or unreadable): download
    }
    if (!this.enabled) {
      throw new ModelDownloadError(`object ${id}`, 'downloading object models is off (settings.js: lwm2m: { downloadModels: true })');
    }
    const url = `${this.baseUrl}${id}.xml`;
    try {
      const body = await this.fetchFn(url, { timeoutMs: this.timeoutMs, maxBytes: MAX_DDF_BYTES });
      const defs = parseDdf(body, url);
      const mine = defs.filter((d) => d.id === id);
      if (mine.length === 0) throw new ModelDownloadError(url, `the file defines object ${defs.map((d) => d.id).join(', ')}, not ${id}`);
      await fsp.mkdir(this.cacheDir, { recursive: true });
      // Write then rename, so a crash never leaves half a file in the cache.
      const tmp = `${file}.${process.pid}.tmp`;
      await fsp.writeFile(tmp, body);
      await fsp.rename(tmp, file);
      this.defs.set(id, mine);
      this.failed.delete(id);
      return mine;
    } catch (err) {
      const e = err instanceof ModelDownloadError ? err
        : new ModelDownloadError(url, err instanceof Lwm2mError || err instanceof Error ? err.message : String(err), { cause: err });
      this.failed.set(id, { until: this.now() + this.retryAfterMs, reason: e.message });
      if (this.failed.size > 4096) this.failed.delete(this.failed.keys().next().value as number);
      throw e;
    }
  }

  /** True when a cache file exists for the object (synchronous, for tests and status). */
  isCached(objectId: number): boolean {
    return fs.existsSync(path.join(this.cacheDir, `${checkId(objectId)}.xml`));
  }
}
