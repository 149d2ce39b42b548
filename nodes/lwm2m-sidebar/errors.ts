/**
 * Typed errors of the editor sidebar's runtime. Route handlers turn them into HTTP answers with `status` and a message a
 * person reads in the editor.
 */
import { Lwm2mError } from '../../src/errors';

/** A request from the editor that cannot be acted on (bad path, bad value for the resource type...): HTTP 400. */
export class SidebarInputError extends Lwm2mError {
  readonly status = 400;
  constructor(message: string) {
    super('SIDEBAR_INPUT', message);
  }
}

/** A server or device the editor named is not (or no longer) there: HTTP 404. */
export class SidebarNotFoundError extends Lwm2mError {
  readonly status = 404;
  constructor(message: string) {
    super('SIDEBAR_NOT_FOUND', message);
  }
}

/** Downloading an object definition (DDF) from the OMA registry failed, or it is switched off. */
export class ModelDownloadError extends Lwm2mError {
  constructor(readonly source: string, reason: string, options?: { cause?: unknown }) {
    super('MODEL_DOWNLOAD', `${source}: ${reason}`, options);
  }
}
