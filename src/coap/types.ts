import { EventEmitter } from 'events';

/**
 * The transport seam. Everything above it (server, client, bootstrap) speaks in these types; below it sit CoAP over
 * UDP (node:dgram) and CoAP over DTLS (src/dtls). RFC 7252.
 */

/** Who a datagram came from or goes to. `identity` is the DTLS PSK identity of an authenticated session. */
export interface Peer {
  address: string;
  port: number;
  family?: 'IPv4' | 'IPv6';
  identity?: string;
}

/**
 * A datagram socket: node:dgram's Socket satisfies it, and so does the DTLS session multiplexer (which emits decrypted
 * application data and adds `identity` to the rinfo of authenticated peers).
 */
export interface DatagramSocket extends EventEmitter {
  send(msg: Buffer, port: number, address: string, callback?: (err: Error | null) => void): void;
  close(callback?: () => void): void;
  address(): { address: string; port: number; family: string };
  // emits 'message' (msg: Buffer, rinfo: Peer & { size?: number }), 'error' (err), 'close'
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'FETCH' | 'PATCH' | 'iPATCH';

/** A request received from a peer. */
export interface CoapRequest {
  method: Method;
  /** Uri-Path segments, e.g. ['rd', 'abc'] */
  path: string[];
  /** Uri-Query options, e.g. ['ep=dev1', 'lt=300'] */
  query: string[];
  contentFormat?: number;
  accept?: number;
  /** Observe option of the request: 0 register, 1 deregister. */
  observe?: number;
  payload: Buffer;
  token: Buffer;
  confirmable: boolean;
  peer: Peer;
}

/** A response, sent (as an answer to a request, or as a notification) or received. */
export interface CoapResponse {
  /** Response code as `c.dd`, e.g. '2.05', '4.04'. */
  code: string;
  contentFormat?: number;
  payload?: Buffer;
  /** Location-Path segments (2.01 Created answers, e.g. ['rd', 'abc']). */
  locationPath?: string[];
  /** Observe option (sequence number) of a notification or of the first answer to an observe request. */
  observe?: number;
  maxAge?: number;
}

/** A response received from a peer. */
export interface ReceivedResponse extends CoapResponse {
  payload: Buffer;
  token: Buffer;
  peer: Peer;
}

/** A request we send to a peer. */
export interface OutgoingRequest {
  method: Method;
  /** Uri-Path as segments or as '/3/0/1'. */
  path: string[] | string;
  query?: string[];
  contentFormat?: number;
  accept?: number;
  payload?: Buffer;
  /** 0 to register an observation, 1 to cancel one. */
  observe?: 0 | 1;
  /** Confirmable (default) or non-confirmable. */
  confirmable?: boolean;
  /** Overall deadline for the answer, in ms (default: the endpoint's, RFC 7252 EXCHANGE_LIFETIME-bounded). */
  timeoutMs?: number;
  /** Token to use (observations use a stored token); a fresh random one otherwise. */
  token?: Buffer;
}

/** Answers incoming requests. May be async; a thrown error becomes 5.00. */
export type RequestHandler = (req: CoapRequest) => CoapResponse | Promise<CoapResponse>;

/**
 * A notification that arrived for a token we do not hold an outstanding request for (observations outlive the request
 * that started them, and a restart). Return true to accept it (a CON is ACKed), false to reject it (answered with RST,
 * which cancels the observation at the device, RFC 7641 3.6), null to ignore it (no ACK, no RST, not remembered as a
 * duplicate): for a token that is known but came from another address than its observation's (RFC 7252 5.3.2).
 */
export type NotificationHandler = (token: Buffer, response: ReceivedResponse) => boolean | null;

/**
 * A peer rejected one of our notifications with RST (RFC 7641 3.6: "if the notification was non-confirmable, the client
 * MAY reject it with RST"; 4.5: the server then MUST remove the observer). The same holds for a confirmable one, whose
 * `notify` promise also rejects with CancelledError.
 */
export interface ObserverGone {
  /** Who sent the RST. */
  peer: Peer;
  /** Token of the rejected notification (the observation's token). */
  token: Buffer;
  /** Whether the rejected notification was confirmable. */
  confirmable: boolean;
}

export type ObserverGoneHandler = (gone: ObserverGone) => void;

export interface RequestOptions {
  /**
   * For observe requests (observe: 0): called for every later notification with the same token, until
   * `endpoint.forgetToken(token)` or an error. The first answer resolves the request's promise.
   */
  onNotification?: (res: ReceivedResponse) => void;
}

/**
 * One CoAP endpoint on one datagram socket: it answers requests (server role towards devices' Register, client role towards
 * the server's Read...) and sends requests from the same socket (so a device behind NAT is reached at the address it
 * registered from). Handles message ids, tokens, deduplication (RFC 7252 4.5), retransmission of confirmable messages
 * (4.2), separate responses (5.2.2), observe (RFC 7641) and block-wise transfers (RFC 7959).
 */
export interface CoapEndpoint {
  readonly socket: DatagramSocket;
  setRequestHandler(handler: RequestHandler): void;
  setNotificationHandler(handler: NotificationHandler): void;
  /** Sends a request; resolves with the answer (any code: 4.xx/5.xx answers resolve too), rejects with TimeoutError or CancelledError. */
  request(peer: Peer, req: OutgoingRequest, opts?: RequestOptions): Promise<ReceivedResponse>;
  /** Sends an observe notification for an observation a peer made (client role). Rejects with CancelledError on RST. */
  notify(peer: Peer, token: Buffer, res: CoapResponse, confirmable: boolean): Promise<void>;
  /**
   * Optional (additive): registers who is told when a peer rejects one of our notifications with RST, NON ones included
   * (which `notify` cannot report: it resolves once a NON is sent). The endpoint remembers the message ids of the NON
   * notifications it sent for NON_LIFETIME (bounded). `null` removes the handler. Endpoints without this method report
   * only RSTs to CON notifications (through `notify`'s rejection).
   */
  setObserverGoneHandler?(handler: ObserverGoneHandler | null): void;
  /** Stops routing notifications for this token to its `onNotification` (later ones go to the NotificationHandler). */
  forgetToken(token: Buffer): void;
  /**
   * Optional (additive): binds a live observation to another peer address (notifications are accepted only from the
   * peer an observation is bound to, RFC 7252 5.3.2 / RFC 7641 3.2); e.g. after the device's Update came from a new
   * address. Returns false when the endpoint holds no observation with this token.
   */
  rebindToken?(token: Buffer, peer: Peer): boolean;
  address(): { address: string; port: number; family: string };
  close(): Promise<void>;
}
