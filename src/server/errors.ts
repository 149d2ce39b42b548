import { Lwm2mError } from '../errors';

/** A request names an endpoint that has no registration on this server. */
export class UnknownEndpointError extends Lwm2mError {
  constructor(readonly endpoint: string) {
    super('UNKNOWN_ENDPOINT', `${endpoint}: no such registered device`);
  }
}

/** A request queued for a sleeping (queue mode) device was not sent before its deadline. */
export class QueueTimeoutError extends Lwm2mError {
  constructor(readonly what: string, readonly timeoutMs: number) {
    super('QUEUE_TIMEOUT', `${what}: device is sleeping (queue mode) and did not wake up within ${timeoutMs} ms; request dropped`);
  }
}

/** A sleeping (queue mode) device already has as many queued requests as the server allows. */
export class QueueFullError extends Lwm2mError {
  constructor(readonly what: string, readonly max: number) {
    super('QUEUE_FULL', `${what}: device is sleeping (queue mode) and already has ${max} queued requests`);
  }
}

/** The device answered an Observe request without the Observe option: it did not add us as an observer (RFC 7641 3.2). */
export class ObserveRejectedError extends Lwm2mError {
  constructor(readonly what: string, readonly coapCode: string) {
    super('OBSERVE_REJECTED', `${what}: device answered ${coapCode} without an Observe option, the path is not observed`);
  }
}

/** An observation id or path that does not name a current observation of the device. */
export class UnknownObservationError extends Lwm2mError {
  constructor(readonly endpoint: string, readonly ref: string) {
    super('UNKNOWN_OBSERVATION', `${endpoint}: no observation ${ref}`);
  }
}

/** An operation the device's LwM2M version does not have (e.g. Read-Composite on a 1.0 device). */
export class UnsupportedOperationError extends Lwm2mError {
  constructor(readonly what: string, reason: string) {
    super('UNSUPPORTED_OPERATION', `${what}: ${reason}`);
  }
}

/** Arguments of an API call that cannot be turned into a request (bad execute arguments, bad attribute values...). */
export class InvalidArgumentError extends Lwm2mError {
  constructor(readonly what: string, reason: string) {
    super('INVALID_ARGUMENT', `${what}: ${reason}`);
  }
}

/** The server is not started, or was closed. */
export class ServerStateError extends Lwm2mError {
  constructor(reason: string) {
    super('SERVER_STATE', reason);
  }
}

/** The registration store cannot be loaded or saved. */
export class StoreError extends Lwm2mError {
  constructor(readonly file: string, reason: string, options?: { cause?: unknown }) {
    super('STORE', `${file}: ${reason}`, options);
  }
}
