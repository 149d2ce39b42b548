import { Lwm2mError } from '../errors';

/** A value that does not fit the resource's type (client.set, object definitions given to the client). */
export class InvalidValueError extends Lwm2mError {
  constructor(readonly path: string, reason: string, options?: { cause?: unknown }) {
    super('INVALID_VALUE', `${path}: ${reason}`, options);
  }
}

/** A path the client's object tree does not hold (client.get / client.set on an unknown object or instance). */
export class NotFoundError extends Lwm2mError {
  constructor(readonly path: string, reason = 'not found') {
    super('NOT_FOUND', `${path}: ${reason}`);
  }
}

/** An operation the client cannot do in its current state (send() while not registered, start() twice...). */
export class ClientStateError extends Lwm2mError {
  constructor(readonly state: string, reason: string) {
    super('CLIENT_STATE', `${reason} (client state: ${state})`);
  }
}

/** Bad client options (endpoint name, server URI, lifetime...). */
export class ClientConfigError extends Lwm2mError {
  constructor(reason: string) {
    super('CLIENT_CONFIG', reason);
  }
}
