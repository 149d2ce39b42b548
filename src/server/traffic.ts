/**
 * The server's `traffic` event: one record per exchange with a device, for logs and monitors. The server builds these
 * only while someone listens (`listenerCount('traffic') > 0`): with no listener, an exchange costs nothing more.
 */
import { Method } from '../coap/types';
import { Lwm2mError, TimeoutError } from '../errors';

/** Which server API call sent a request to a device. */
export type OutgoingOperation =
  | 'read' | 'write' | 'execute' | 'create' | 'delete' | 'discover' | 'write-attributes'
  | 'read-composite' | 'write-composite' | 'observe' | 'observe-composite' | 'cancel-observe';

/** Which Registration / Information Reporting interface operation a device's request was (undefined: none, e.g. a bad path). */
export type IncomingOperation = 'register' | 'update' | 'deregister' | 'send';

/** A request the server sent to a device (Device Management and Information Reporting interfaces), once it ended. */
export interface OutgoingTraffic {
  kind: 'request';
  direction: 'out';
  endpoint: string;
  operation: OutgoingOperation;
  method: Method;
  /** LwM2M path of the request (`/3/0/1`), relative to the device's alternate root path when it has one. */
  path: string;
  /** Uri-Query (Write-Attributes). */
  query?: readonly string[];
  /** Observe option: 0 establishes an observation, 1 cancels it (RFC 7641 2). */
  observe?: 0 | 1;
  /** Accept option. */
  accept?: number;
  /** Content-Format of the request payload. */
  format?: number;
  /** Request payload size in bytes. */
  size: number;
  /** Code of the answer; absent when none came (see `error`). */
  code?: string;
  /** Content-Format of the answer. */
  answerFormat?: number;
  /** Answer payload size in bytes (the whole body after a block-wise transfer). */
  answerSize?: number;
  /**
   * Time from handing the request to the transport to its end, in ms. For a queue-mode device whose request never left
   * the queue (queue timeout, queue full, device gone), time spent waiting in the queue.
   */
  durationMs: number;
  /** Why no answer came: a short message (timeout, cancelled, queue full...). */
  error?: string;
  /** `origin` of the call's options: who asked (e.g. a flow node's id). */
  origin?: string;
  /** Epoch ms when the exchange ended. */
  time: number;
}

/** A request a device sent to the server: Register (`/rd`), Update and De-register (`/rd/<id>`), Send (`/dp`). */
export interface IncomingTraffic {
  kind: 'request';
  direction: 'in';
  /** The device's endpoint name: from `ep=` for a Register, from its registration otherwise; absent when unknown. */
  endpoint?: string;
  operation?: IncomingOperation;
  method: Method;
  /** Uri-Path as received: `/rd`, `/rd/<id>`, `/dp`. */
  path: string;
  query?: readonly string[];
  /** Content-Format of the request payload. */
  format?: number;
  /** Request payload size in bytes. */
  size: number;
  /** Code the server answered. */
  code: string;
  /** Answer payload size in bytes (a diagnostic message on refusals). */
  answerSize: number;
  /** Where the request came from. */
  address: string;
  port: number;
  time: number;
}

/** A notification of an observation (RFC 7641 4.2), once matched to its observation. */
export interface NotificationTraffic {
  kind: 'notification';
  direction: 'in';
  endpoint: string;
  observationId: string;
  /** The observed paths. */
  paths: readonly string[];
  code: string;
  /** Content-Format of the notification. */
  format?: number;
  /** Payload size in bytes. */
  size: number;
  /** Observe sequence number. */
  sequence?: number;
  time: number;
}

export type TrafficEvent = OutgoingTraffic | IncomingTraffic | NotificationTraffic;

/** `timeout after 2000 ms`, `cancelled (device deregistered)`...: why a request got no answer, without the request's name. */
export function shortError(err: unknown, what: string): string {
  if (err instanceof TimeoutError) return `timeout after ${err.timeoutMs} ms`;
  let m = err instanceof Error ? err.message : String(err);
  if (m.startsWith(what)) m = m.slice(what.length).replace(/^:\s*/, '').trim();
  if (err instanceof Lwm2mError && err.code === 'CANCELLED') {
    // `dev1 /3/0/1 (device deregistered): cancelled` -> `cancelled (device deregistered)`
    const why = /^\((.*)\): cancelled$/.exec(m);
    if (why) m = `cancelled (${why[1]})`;
  }
  return m.length > 200 ? m.slice(0, 199) + '…' : m || (err instanceof Lwm2mError ? err.code : 'error');
}
