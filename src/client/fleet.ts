/**
 * A virtual fleet: thousands of LwM2M clients in one process, each with its own socket and endpoint name, sharing one
 * scheduler (so no timer per client), one object registry, and everything else that can be shared. Clients start in
 * waves of `concurrency` so a large fleet does not flood its server with Register requests at once.
 */
import { EventEmitter } from 'events';
import { ObjectRegistry } from '../model/types';
import { ModelRegistry } from '../model/registry';
import { ClientState, Lwm2mClient, Lwm2mClientOptions } from './client';
import { defaultScheduler, Scheduler } from './scheduler';
import { ClientConfigError } from './errors';

export interface FleetOptions extends Omit<Lwm2mClientOptions, 'endpoint' | 'socket' | 'coapEndpoint' | 'localPort'> {
  /** Number of clients. */
  count: number;
  /** Endpoint names are `${prefix}${index}` (default `dev-`). */
  prefix?: string;
  /** First index (default 0). */
  startIndex?: number;
  /** Per-client options (objects, device info...) merged over the shared ones. */
  perClient?: (index: number, endpoint: string) => Partial<Lwm2mClientOptions>;
  /** Clients registering at the same time while starting (default 100). */
  concurrency?: number;
  /** How long start() waits for one client to register before moving on, in ms (default 30,000). */
  registerTimeoutMs?: number;
}

export interface FleetStats {
  total: number;
  registered: number;
  sleeping: number;
  registering: number;
  bootstrapping: number;
  error: number;
  stopped: number;
  /** Observations held by the fleet's clients. */
  observations: number;
}

export class Fleet extends EventEmitter {
  readonly clients: Lwm2mClient[] = [];
  readonly scheduler: Scheduler;
  readonly registry: ObjectRegistry;
  private readonly counts: Record<ClientState, number> = {
    bootstrapping: 0, registering: 0, registered: 0, sleeping: 0, error: 0, stopped: 0,
  };
  private running = false;

  constructor(private readonly opts: FleetOptions) {
    super();
    if (!Number.isInteger(opts.count) || opts.count < 0) throw new ClientConfigError('count must be a non-negative integer');
    this.scheduler = opts.scheduler ?? defaultScheduler();
    this.registry = opts.registry ?? ModelRegistry.withBuiltins();
    const prefix = opts.prefix ?? 'dev-';
    const first = opts.startIndex ?? 0;
    const { count: _c, prefix: _p, startIndex: _s, perClient, concurrency: _k, registerTimeoutMs: _r, ...shared } = opts;
    for (let n = 0; n < opts.count; n++) {
      const index = first + n;
      const endpoint = `${prefix}${index}`;
      const client = new Lwm2mClient({
        ...shared,
        ...(perClient?.(index, endpoint) ?? {}),
        endpoint,
        scheduler: this.scheduler,
        registry: this.registry,
      });
      this.counts.stopped++;
      client.on('state', (s: ClientState, prev: ClientState) => {
        this.counts[prev]--;
        this.counts[s]++;
        this.emit('state', client, s, prev);
      });
      // a fleet reports errors through stats and events, never by crashing
      client.on('error', (err: unknown) => this.emit('client-error', client, err));
      this.clients.push(client);
    }
  }

  /** Starts every client, `concurrency` registrations at a time. Resolves when each has registered or given up waiting. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const k = Math.max(1, this.opts.concurrency ?? 100);
    const timeout = this.opts.registerTimeoutMs ?? 30_000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (this.running && next < this.clients.length) {
        const c = this.clients[next++];
        try {
          await c.start();
          await c.whenRegistered(timeout);
        } catch (err) {
          this.emit('client-error', c, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(k, this.clients.length) }, worker));
  }

  /** De-registers and closes every client, `concurrency` at a time. */
  async stop(): Promise<void> {
    this.running = false;
    const k = Math.max(1, this.opts.concurrency ?? 100);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.clients.length) {
        const c = this.clients[next++];
        try { await c.stop(); } catch (err) { this.emit('client-error', c, err); }
      }
    };
    await Promise.all(Array.from({ length: Math.min(k, this.clients.length) }, worker));
  }

  stats(): FleetStats {
    let observations = 0;
    for (const c of this.clients) observations += c.observations.size;
    return { total: this.clients.length, ...this.counts, observations };
  }

  /** The client with this endpoint name. */
  get(endpoint: string): Lwm2mClient | undefined {
    return this.clients.find((c) => c.endpointName === endpoint);
  }
}

/** Builds a fleet (not started). */
export function createFleet(opts: FleetOptions): Fleet {
  return new Fleet(opts);
}
