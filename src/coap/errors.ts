import { Lwm2mError } from '../errors';

/**
 * A datagram that is not a well-formed CoAP message (RFC 7252 3: "message format error"), or a message we were asked to
 * send that cannot be encoded (bad option value, token too long, bad code, too large). `messageId`/`type` are set when the
 * 4-byte header could be read, so a receiver can still reject a malformed Confirmable message with a Reset (RFC 7252 4.2).
 */
export class CoapMessageError extends Lwm2mError {
  constructor(
    reason: string,
    readonly header?: { type: number; messageId: number },
  ) {
    super('COAP_MESSAGE', `CoAP message: ${reason}`);
  }
}

/** A block-wise transfer (RFC 7959) that cannot complete: body over the size cap, or blocks that do not fit together. */
export class BlockwiseError extends Lwm2mError {
  constructor(readonly what: string, reason: string) {
    super('COAP_BLOCKWISE', `${what}: ${reason}`);
  }
}

/** Endpoint misuse: bad options or call arguments, a socket that cannot be bound. (A closed endpoint rejects with CancelledError.) */
export class EndpointStateError extends Lwm2mError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('COAP_ENDPOINT', reason, options);
  }
}

/**
 * A request to a peer that already has `nstart` requests outstanding and `maxQueued` more waiting (RFC 7252 4.7
 * NSTART; the queue bound is ours). Nothing was sent; the caller may retry later. `peer` is `address:port`.
 */
export class PeerQueueFullError extends Lwm2mError {
  constructor(readonly what: string, readonly peer: string, readonly nstart: number, readonly maxQueued: number) {
    super(
      'COAP_PEER_QUEUE_FULL',
      `${what}: too many requests to ${peer}: ${nstart} outstanding (nstart) and ${maxQueued} queued (maxQueuedPerPeer), request refused`,
    );
  }
}
