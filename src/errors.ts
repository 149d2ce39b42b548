/**
 * Typed errors of the library. Every error thrown on purpose by `src/` is an {@link Lwm2mError}; callers can switch on
 * `err.code` (stable strings) or use `instanceof`.
 */
export class Lwm2mError extends Error {
  /** Stable, machine-readable error code, e.g. `INVALID_PATH`, `DECODE`, `COAP_4.04`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A string that is not a valid LwM2M path (`/O/I/R/RI`). */
export class InvalidPathError extends Lwm2mError {
  constructor(readonly input: string, reason: string) {
    super('INVALID_PATH', `invalid LwM2M path "${input}": ${reason}`);
  }
}

/** A payload that cannot be decoded in the given content format. */
export class DecodeError extends Lwm2mError {
  constructor(readonly format: number, reason: string, options?: { cause?: unknown }) {
    super('DECODE', `cannot decode content format ${format}: ${reason}`, options);
  }
}

/**
 * Values that cannot be encoded in the given content format (wrong shape, wrong type, format cannot carry them).
 * A negative `format` means the value was checked against the model before any format was chosen.
 */
export class EncodeError extends Lwm2mError {
  constructor(readonly format: number, reason: string, options?: { cause?: unknown }) {
    super('ENCODE', format < 0 ? `invalid value: ${reason}` : `cannot encode content format ${format}: ${reason}`, options);
  }
}

/** A content format number we do not implement. */
export class UnsupportedFormatError extends Lwm2mError {
  constructor(readonly format: number) {
    super('UNSUPPORTED_FORMAT', `unsupported content format ${format}`);
  }
}

/** A DDF (object definition XML) that cannot be loaded. `source` names the file or "<string>". */
export class ModelError extends Lwm2mError {
  constructor(readonly source: string, reason: string, options?: { cause?: unknown }) {
    super('MODEL', `${source}: ${reason}`, options);
  }
}

/** A request that got no answer in time (device asleep, gone, or the network lost every retransmission). */
export class TimeoutError extends Lwm2mError {
  constructor(readonly what: string, readonly timeoutMs: number) {
    super('TIMEOUT', `${what}: no answer within ${timeoutMs} ms`);
  }
}

/** A CoAP error answer (4.xx / 5.xx) to a request; `coapCode` is e.g. `4.04`. */
export class CoapResponseError extends Lwm2mError {
  constructor(readonly coapCode: string, readonly what: string, readonly diagnostic?: string) {
    super(`COAP_${coapCode}`, `${what}: ${coapCode} ${COAP_CODE_NAMES[coapCode] ?? ''}${diagnostic ? ` (${diagnostic})` : ''}`.trimEnd());
  }
}

/** A request that was cancelled (endpoint closed, observation cancelled, queue flushed). */
export class CancelledError extends Lwm2mError {
  constructor(what: string) {
    super('CANCELLED', `${what}: cancelled`);
  }
}

export const COAP_CODE_NAMES: Record<string, string> = {
  '2.01': 'Created', '2.02': 'Deleted', '2.03': 'Valid', '2.04': 'Changed', '2.05': 'Content', '2.31': 'Continue',
  '4.00': 'Bad Request', '4.01': 'Unauthorized', '4.02': 'Bad Option', '4.03': 'Forbidden', '4.04': 'Not Found',
  '4.05': 'Method Not Allowed', '4.06': 'Not Acceptable', '4.08': 'Request Entity Incomplete', '4.09': 'Conflict',
  '4.12': 'Precondition Failed', '4.13': 'Request Entity Too Large', '4.15': 'Unsupported Content-Format',
  '5.00': 'Internal Server Error', '5.01': 'Not Implemented', '5.02': 'Bad Gateway', '5.03': 'Service Unavailable',
  '5.04': 'Gateway Timeout', '5.05': 'Proxying Not Supported',
};
