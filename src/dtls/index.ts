/**
 * DTLS 1.2 with PSK (RFC 6347, RFC 4279, RFC 6655, RFC 5487, RFC 7627, RFC 5746) on node:crypto: a server
 * multiplexing sessions on one UDP socket and a client, both usable as the CoAP layer's DatagramSocket.
 */
export { createDtlsServer, DtlsServer } from './server';
export type { DtlsServerOptions, DtlsServerStats, DtlsSessionInfo, HandshakeFailedEvent } from './server';
export { connectDtls, DtlsClientSocket } from './client';
export type { DtlsClientOptions } from './client';
export { MemoryPskStore, toKey } from './psk-store';
export type { PskStore } from './psk-store';
export type { CloseReason } from './connection';
export { DtlsError, DtlsDecodeError, DtlsHandshakeError, DtlsNoSessionError, DtlsConfigError } from './errors';
export type { HandshakeFailureReason } from './errors';
export { SUPPORTED_SUITES, TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CBC_SHA256 } from './suites';
export { alertName } from './constants';
