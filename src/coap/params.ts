/**
 * Per-endpoint CoAP transmission parameters (RFC 7252 4.8) and the limits of our implementation. Nothing here is
 * process-wide: every endpoint resolves its own copy.
 */
import { EndpointStateError } from './errors';
import { szxOf } from './options';
import { TimerWheel } from '../util/timer-wheel';

export interface UdpCoapEndpointOptions {
  /** ACK_TIMEOUT, ms (default 2000). */
  ackTimeoutMs?: number;
  /** ACK_RANDOM_FACTOR (default 1.5, at least 1). */
  ackRandomFactor?: number;
  /** MAX_RETRANSMIT (default 4). */
  maxRetransmit?: number;
  /**
   * EXCHANGE_LIFETIME, ms: how long a received message id is remembered for deduplication (RFC 7252 4.5, 4.8.2).
   * Default: MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY (247 s with the default parameters).
   */
  exchangeLifetimeMs?: number;
  /** Default deadline of a request (each exchange of a block-wise transfer), ms. Default: MAX_TRANSMIT_WAIT (93 s). */
  requestTimeoutMs?: number;
  /** Most message ids remembered for deduplication; the oldest is forgotten first (default 100 000). */
  dedupCapacity?: number;
  /**
   * NON_LIFETIME, ms (RFC 7252 4.8.2): how long the message id of a non-confirmable notification we sent is remembered,
   * so that a RST answering it reports the observer as gone (RFC 7641 3.6, 4.5).
   * Default: MAX_TRANSMIT_SPAN + MAX_LATENCY (145 s with the default parameters).
   */
  nonLifetimeMs?: number;
  /**
   * Most non-confirmable notifications remembered at once (default 4096); the oldest is forgotten first. A RST to a
   * forgotten one goes unnoticed: the observer is then dropped by the next confirmable notification (RFC 7641 4.5).
   */
  nonNotificationCapacity?: number;
  /** Largest body reassembled from a block-wise transfer, either direction, bytes (default 8 MiB). */
  maxBodySize?: number;
  /** Block size for block-wise transfers we start (16..1024, power of two; default 1024). */
  blockSize?: number;
  /** A CON request whose handler has not answered after this many ms gets an empty ACK and a separate response (default 1000). */
  separateResponseDelayMs?: number;
  /** Lifetime of block-wise state: a body served block by block, a body being received (ms since the last block; default 60 000). */
  blockTransferTimeoutMs?: number;
  /** Most concurrent block-wise transfers held (each direction; default 1000). */
  maxBlockTransfers?: number;
  /** Most bytes held by block-wise transfers (each direction; default 64 MiB). */
  maxBlockBytes?: number;
  /** Length of the tokens we generate, 1..8 bytes (default 8). */
  tokenLength?: number;
  /**
   * NSTART (RFC 7252 4.7): most requests outstanding to one peer at once (default 1). A request is outstanding from
   * the call until its final answer (a block-wise transfer counts as one request until its last block is answered; an
   * observe request until its first answer; a request answered by an empty ACK until its separate response), until
   * it fails, or until its deadline. More requests to that peer wait in a queue, in call order.
   */
  nstart?: number;
  /**
   * Most requests waiting for one peer beyond its `nstart` outstanding ones (default 1000). A request over the bound
   * rejects at once with {@link PeerQueueFullError}. A queued request that does not leave the queue within its
   * `timeoutMs` rejects with TimeoutError.
   */
  maxQueuedPerPeer?: number;
  /** A wheel shared by several endpoints (default: one per endpoint, closed with it). */
  timerWheel?: TimerWheel;
  /** Close the socket when the endpoint is closed (default true). */
  closeSocket?: boolean;
}

/** MAX_LATENCY (RFC 7252 4.8.2): 100 s. */
export const MAX_LATENCY_MS = 100_000;

export interface ResolvedParams {
  ackTimeoutMs: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  /** MAX_TRANSMIT_SPAN = ACK_TIMEOUT * (2^MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR */
  maxTransmitSpanMs: number;
  /** MAX_TRANSMIT_WAIT = ACK_TIMEOUT * (2^(MAX_RETRANSMIT + 1) - 1) * ACK_RANDOM_FACTOR */
  maxTransmitWaitMs: number;
  exchangeLifetimeMs: number;
  requestTimeoutMs: number;
  dedupCapacity: number;
  nonLifetimeMs: number;
  nonNotificationCapacity: number;
  maxBodySize: number;
  blockSize: number;
  blockSzx: number;
  separateResponseDelayMs: number;
  blockTransferTimeoutMs: number;
  maxBlockTransfers: number;
  maxBlockBytes: number;
  tokenLength: number;
  nstart: number;
  maxQueuedPerPeer: number;
  closeSocket: boolean;
}

function num(name: string, v: number | undefined, def: number, min: number, max = Infinity): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
    throw new EndpointStateError(`option ${name} must be a number from ${min} to ${max} (got ${String(v)})`);
  }
  return v;
}

export function resolveParams(o: UdpCoapEndpointOptions = {}): ResolvedParams {
  const ackTimeoutMs = num('ackTimeoutMs', o.ackTimeoutMs, 2000, 1, 600_000);
  const ackRandomFactor = num('ackRandomFactor', o.ackRandomFactor, 1.5, 1, 10);
  const maxRetransmit = Math.floor(num('maxRetransmit', o.maxRetransmit, 4, 0, 20));
  const maxTransmitSpanMs = ackTimeoutMs * (2 ** maxRetransmit - 1) * ackRandomFactor;
  const maxTransmitWaitMs = ackTimeoutMs * (2 ** (maxRetransmit + 1) - 1) * ackRandomFactor;
  const exchangeLifetimeMs = num(
    'exchangeLifetimeMs',
    o.exchangeLifetimeMs,
    maxTransmitSpanMs + 2 * MAX_LATENCY_MS + ackTimeoutMs,
    1,
  );
  const blockSize = num('blockSize', o.blockSize, 1024, 16, 1024);
  let blockSzx: number;
  try {
    blockSzx = szxOf(blockSize);
  } catch {
    throw new EndpointStateError(`option blockSize must be a power of two from 16 to 1024 (got ${blockSize})`);
  }
  return {
    ackTimeoutMs,
    ackRandomFactor,
    maxRetransmit,
    maxTransmitSpanMs,
    maxTransmitWaitMs,
    exchangeLifetimeMs,
    requestTimeoutMs: num('requestTimeoutMs', o.requestTimeoutMs, maxTransmitWaitMs, 1),
    dedupCapacity: Math.floor(num('dedupCapacity', o.dedupCapacity, 100_000, 1)),
    nonLifetimeMs: num('nonLifetimeMs', o.nonLifetimeMs, maxTransmitSpanMs + MAX_LATENCY_MS, 1),
    nonNotificationCapacity: Math.floor(num('nonNotificationCapacity', o.nonNotificationCapacity, 4096, 1)),
    maxBodySize: Math.floor(num('maxBodySize', o.maxBodySize, 8 * 1024 * 1024, 16)),
    blockSize,
    blockSzx,
    separateResponseDelayMs: num('separateResponseDelayMs', o.separateResponseDelayMs, 1000, 0),
    blockTransferTimeoutMs: num('blockTransferTimeoutMs', o.blockTransferTimeoutMs, 60_000, 1),
    maxBlockTransfers: Math.floor(num('maxBlockTransfers', o.maxBlockTransfers, 1000, 1)),
    maxBlockBytes: Math.floor(num('maxBlockBytes', o.maxBlockBytes, 64 * 1024 * 1024, 1024)),
    tokenLength: Math.floor(num('tokenLength', o.tokenLength, 8, 1, 8)),
    nstart: Math.floor(num('nstart', o.nstart, 1, 1, 1_000_000)),
    maxQueuedPerPeer: Math.floor(num('maxQueuedPerPeer', o.maxQueuedPerPeer, 1000, 0)),
    closeSocket: o.closeSocket ?? true,
  };
}
