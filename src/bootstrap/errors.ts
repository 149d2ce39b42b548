import { Lwm2mError } from '../errors';

/** A bootstrap configuration that cannot be used; `field` names the offending member (`servers[0].key`). */
export class BootstrapConfigError extends Lwm2mError {
  constructor(readonly field: string, reason: string, options?: { cause?: unknown }) {
    super('BOOTSTRAP_CONFIG', `bootstrap configuration: ${field}: ${reason}`, options);
  }
}

/** The bootstrap server has no configuration for an endpoint (the Bootstrap-Request is answered 4.00). */
export class NoBootstrapConfigError extends Lwm2mError {
  constructor(readonly endpoint: string) {
    super('BOOTSTRAP_NO_CONFIG', `no bootstrap configuration for endpoint "${endpoint}"`);
  }
}

/** Where a bootstrap session was when it ended. */
export type BootstrapStep = 'config' | 'discover' | 'read' | 'delete' | 'write' | 'pack' | 'finish';

/**
 * A bootstrap session that ended without success: the device answered an error, stopped answering, the session ran out
 * of time, was replaced by a new Bootstrap-Request, or its configuration could not be found or used. `cause` holds the
 * underlying error (CoapResponseError, TimeoutError, BootstrapConfigError, CancelledError...).
 */
export class BootstrapFailedError extends Lwm2mError {
  constructor(
    readonly endpoint: string,
    readonly step: BootstrapStep,
    readonly path: string | undefined,
    reason: string,
    options?: { cause?: unknown; coapCode?: string },
  ) {
    super('BOOTSTRAP_FAILED', `bootstrap of "${endpoint}" failed at ${step}${path !== undefined ? ` (${path})` : ''}: ${reason}`, options);
    this.coapCode = options?.coapCode;
  }
  /** The device's answer code when it answered with an error (`4.06`...). */
  readonly coapCode: string | undefined;
}

/** A bootstrap server in the wrong state for a call (start after close...). */
export class BootstrapStateError extends Lwm2mError {
  constructor(reason: string) {
    super('BOOTSTRAP_STATE', reason);
  }
}
