import { Registration } from './registration';
import { Observation, sameObservedPaths } from './observation';

/** A registration removed from the store, with the observations that went with it. */
export interface Deregistration {
  registration: Registration;
  observations: Observation[];
}

/**
 * Where the server keeps registrations and observations (Leshan's `RegistrationStore` is the model). Synchronous: the
 * server's hot paths (Update, notifications) look registrations up without a promise per message; a remote store
 * (Redis...) is written through with a local copy. Every change goes through these methods, so a persisting store sees
 * all of them.
 */
export interface RegistrationStore {
  /** Loads persisted state; the server calls it from `start()`. */
  open?(): Promise<void>;
  /** Writes what is pending and releases resources; the server calls it from `close()`. */
  close?(): Promise<void>;

  /** Adds a registration. One registration per endpoint: an older one of the same endpoint is removed and returned. */
  add(registration: Registration): Deregistration | undefined;
  /** Applies changes to a registration (address, lifetime...). Returns the updated registration, undefined if unknown. */
  update(id: string, changes: Partial<Registration>): Registration | undefined;
  /** Removes a registration and its observations. */
  remove(id: string): Deregistration | undefined;

  getById(id: string): Registration | undefined;
  getByEndpoint(endpoint: string): Registration | undefined;
  /** The registration whose device last spoke from this address and port (on this transport, when given). */
  getByAddress(address: string, port: number, transport?: string): Registration | undefined;
  all(): IterableIterator<Registration>;
  readonly size: number;

  /**
   * Adds an observation of a current registration. Observations of the same registration on the same path(s) are
   * replaced (returned), like Leshan does: a device keeps one observation per path and server.
   */
  addObservation(observation: Observation): Observation[];
  getObservation(token: string): Observation | undefined;
  removeObservation(token: string): Observation | undefined;
  observationsOf(registrationId: string): Observation[];
  allObservations(): IterableIterator<Observation>;
  readonly observationCount: number;
}

function addressKey(address: string, port: number, transport: string): string {
  return `${transport}|${port}|${address}`;
}

/** The in-memory store: registrations indexed by id, endpoint and address; observations by token and registration. */
export class MemoryRegistrationStore implements RegistrationStore {
  protected readonly byId = new Map<string, Registration>();
  protected readonly byEndpoint = new Map<string, Registration>();
  protected readonly byAddress = new Map<string, Registration>();
  protected readonly observationsByToken = new Map<string, Observation>();
  /** Tokens per registration id, only for registrations that have observations. */
  protected readonly tokensByRegistration = new Map<string, string[]>();

  get size(): number {
    return this.byId.size;
  }

  get observationCount(): number {
    return this.observationsByToken.size;
  }

  /** Called after every change; persisting subclasses override it. */
  protected changed(): void {
    /* nothing to do in memory */
  }

  add(registration: Registration): Deregistration | undefined {
    const previous = this.byEndpoint.get(registration.endpoint);
    let removed: Deregistration | undefined;
    if (previous) removed = this.removeUnchanged(previous.id);
    this.byId.set(registration.id, registration);
    this.byEndpoint.set(registration.endpoint, registration);
    this.byAddress.set(addressKey(registration.address, registration.port, registration.transport), registration);
    this.changed();
    return removed;
  }

  update(id: string, changes: Partial<Registration>): Registration | undefined {
    const reg = this.byId.get(id);
    if (!reg) return undefined;
    const oldKey = addressKey(reg.address, reg.port, reg.transport);
    Object.assign(reg, changes);
    if (changes.id !== undefined && changes.id !== id) {
      this.byId.delete(id);
      this.byId.set(reg.id, reg);
    }
    const newKey = addressKey(reg.address, reg.port, reg.transport);
    if (newKey !== oldKey) {
      if (this.byAddress.get(oldKey) === reg) this.byAddress.delete(oldKey);
    }
    this.byAddress.set(newKey, reg);
    this.changed();
    return reg;
  }

  remove(id: string): Deregistration | undefined {
    const out = this.removeUnchanged(id);
    if (out) this.changed();
    return out;
  }

  private removeUnchanged(id: string): Deregistration | undefined {
    const reg = this.byId.get(id);
    if (!reg) return undefined;
    this.byId.delete(id);
    if (this.byEndpoint.get(reg.endpoint) === reg) this.byEndpoint.delete(reg.endpoint);
    const key = addressKey(reg.address, reg.port, reg.transport);
    if (this.byAddress.get(key) === reg) this.byAddress.delete(key);
    const observations: Observation[] = [];
    const tokens = this.tokensByRegistration.get(id);
    if (tokens) {
      for (const t of tokens) {
        const o = this.observationsByToken.get(t);
        if (o) {
          observations.push(o);
          this.observationsByToken.delete(t);
        }
      }
      this.tokensByRegistration.delete(id);
    }
    return { registration: reg, observations };
  }

  getById(id: string): Registration | undefined {
    return this.byId.get(id);
  }

  getByEndpoint(endpoint: string): Registration | undefined {
    return this.byEndpoint.get(endpoint);
  }

  getByAddress(address: string, port: number, transport?: string): Registration | undefined {
    if (transport !== undefined) return this.byAddress.get(addressKey(address, port, transport));
    for (const reg of this.byAddress.values()) if (reg.address === address && reg.port === port) return reg;
    return undefined;
  }

  all(): IterableIterator<Registration> {
    return this.byId.values();
  }

  addObservation(observation: Observation): Observation[] {
    if (!this.byId.has(observation.registrationId)) return [];
    const replaced: Observation[] = [];
    let tokens = this.tokensByRegistration.get(observation.registrationId);
    if (tokens) {
      const keep: string[] = [];
      for (const t of tokens) {
        const o = this.observationsByToken.get(t);
        if (!o) continue;
        if (t === observation.token || sameObservedPaths(o, observation)) {
          replaced.push(o);
          this.observationsByToken.delete(t);
        } else keep.push(t);
      }
      tokens = keep;
    } else tokens = [];
    tokens.push(observation.token);
    this.tokensByRegistration.set(observation.registrationId, tokens);
    this.observationsByToken.set(observation.token, observation);
    this.changed();
    return replaced;
  }

  getObservation(token: string): Observation | undefined {
    return this.observationsByToken.get(token);
  }

  removeObservation(token: string): Observation | undefined {
    const o = this.observationsByToken.get(token);
    if (!o) return undefined;
    this.observationsByToken.delete(token);
    const tokens = this.tokensByRegistration.get(o.registrationId);
    if (tokens) {
      const rest = tokens.filter((t) => t !== token);
      if (rest.length) this.tokensByRegistration.set(o.registrationId, rest);
      else this.tokensByRegistration.delete(o.registrationId);
    }
    this.changed();
    return o;
  }

  observationsOf(registrationId: string): Observation[] {
    const tokens = this.tokensByRegistration.get(registrationId);
    if (!tokens) return [];
    const out: Observation[] = [];
    for (const t of tokens) {
      const o = this.observationsByToken.get(t);
      if (o) out.push(o);
    }
    return out;
  }

  allObservations(): IterableIterator<Observation> {
    return this.observationsByToken.values();
  }

  /** Restores a registration and its observations as they were (used by persisting stores when loading). */
  protected restore(registrations: Iterable<Registration>, observations: Iterable<Observation>): void {
    for (const r of registrations) {
      const prev = this.byEndpoint.get(r.endpoint);
      if (prev && prev.registeredAt > r.registeredAt) continue;
      if (prev) this.removeUnchanged(prev.id);
      this.byId.set(r.id, r);
      this.byEndpoint.set(r.endpoint, r);
      this.byAddress.set(addressKey(r.address, r.port, r.transport), r);
    }
    for (const o of observations) {
      if (!this.byId.has(o.registrationId)) continue;
      this.observationsByToken.set(o.token, o);
      const tokens = this.tokensByRegistration.get(o.registrationId);
      if (tokens) tokens.push(o.token);
      else this.tokensByRegistration.set(o.registrationId, [o.token]);
    }
  }
}
