/** CoAP transport: the endpoint (RFC 7252 + Observe RFC 7641 + block-wise RFC 7959) and its seam types. */
export * from './types';
export { UdpCoapEndpoint, createUdpEndpoint, peerKeyOf } from './endpoint';
export type { EndpointStats, CreateUdpEndpointOptions, UdpCoapEndpointOptions } from './endpoint';
export { resolveParams, MAX_LATENCY_MS } from './params';
export type { ResolvedParams } from './params';
export { CoapMessageError, BlockwiseError, EndpointStateError, PeerQueueFullError } from './errors';
export { decode as decodeMessage, encode as encodeMessage, CON, NON, ACK, RST, Opt } from './message';
export type { CoapMessage, CoapOption, OutMessage, MessageType } from './message';
export { isFresh as isFreshNotification } from './observe';
export { TimerWheel, TimerHandle } from '../util/timer-wheel';
export type { TimerWheelOptions } from '../util/timer-wheel';
