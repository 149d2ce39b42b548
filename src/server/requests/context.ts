import { CoapResponseError } from '../../errors';
import { OutgoingRequest, ReceivedResponse, RequestOptions } from '../../coap/types';
import { ObjectRegistry } from '../../model/types';
import { Lwm2mPath } from '../../model/path';
import { Registration } from '../registration';

/**
 * What a request module needs from the server: the device's registration (as it is when the call starts), the object
 * registry, and a way to send. `send` takes paths relative to the device's root (the server prefixes the alternate root
 * path), waits for a sleeping device (queue mode), applies the timeout and turns a missing answer into a TimeoutError
 * naming the device and path.
 */
export interface RequestContext {
  readonly registration: Registration;
  readonly registry: ObjectRegistry;
  /** The device's preferred content format, when one is set on the server (tried first when it fits the request). */
  readonly preferredFormat?: number;
  send(req: OutgoingRequest, what: string, opts?: RequestOptions): Promise<ReceivedResponse>;
}

/** Options every operation takes. */
export interface OperationOptions {
  /** Content format to use (skips negotiation). */
  format?: number;
  /** How long to wait for the answer, in ms (default: the server's requestTimeoutMs). */
  timeoutMs?: number;
  /** Who asks (e.g. a flow node's id): copied into the `traffic` events of the exchanges this call makes. */
  origin?: string;
}

/** `dev1 /3/0/1`: how errors name a request. */
export function describe(reg: Registration, path: Lwm2mPath | string): string {
  return `${reg.endpoint} ${typeof path === 'string' ? path : path.toString()}`;
}

/** Uri-Path segments of an LwM2M path (`/` -> []). */
export function segments(path: Lwm2mPath): string[] {
  return path.segments.map(String);
}

/** The diagnostic payload of an error answer (RFC 7252 5.5.2), when it is short readable text. */
export function diagnosticOf(res: ReceivedResponse): string | undefined {
  const p = res.payload;
  if (!p || p.length === 0 || p.length > 256) return undefined;
  const s = p.toString('utf8');
  // eslint-disable-next-line no-control-regex
  return /^[^\u0000-\u0008\u000e-\u001f\ufffd]*$/.test(s) ? s : undefined;
}

/** Throws CoapResponseError unless the answer's code is one of `ok`. */
export function expectCode(res: ReceivedResponse, what: string, ok: readonly string[]): void {
  if (!ok.includes(res.code)) throw new CoapResponseError(res.code, what, diagnosticOf(res));
}

/** True for the answers that mean "not this content format" (RFC 7252 5.9.2.7 4.06, 5.9.2.10 4.15). */
export function isFormatRefusal(res: ReceivedResponse): boolean {
  return res.code === '4.06' || res.code === '4.15';
}
