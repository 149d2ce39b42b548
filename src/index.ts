/**
 * The public API of the LwM2M library (no Node-RED import anywhere below src/).
 *
 * The main classes are exported by name; each layer is also available as a namespace (`content`, `coap`, `dtls`,
 * `server`, `bootstrap`, `client`, `model`, `qualification`) with its full API.
 */
export { Lwm2mServer, MemoryRegistrationStore, FileRegistrationStore, InMemorySecurityStore, registrationObjects } from './server';
export type { Registration, Observation, RegistrationStore, SecurityStore, SecurityInfo } from './server';
export { Lwm2mClient, createFleet } from './client';
export { BootstrapServer, InMemoryBootstrapConfigStore } from './bootstrap';
export type { BootstrapConfig } from './bootstrap';
export { createDtlsServer, connectDtls, MemoryPskStore } from './dtls';
export { createUdpEndpoint, UdpCoapEndpoint } from './coap';
export type { CoapEndpoint, DatagramSocket, Peer } from './coap/types';
export { Lwm2mPath } from './model/path';
export { ModelRegistry, parseDdf, loadDdfFile, loadDdfFolder } from './model';
export type { ObjectDef, ResourceDef, ResourceType, ObjectRegistry } from './model/types';
export { ContentFormat, encode, decode, recordsToTree, treeToRecords } from './content';
export type { Lwm2mRecord, Lwm2mValue, ObjectLink } from './content/values';
export { runDeviceTest, renderReportHtml } from './qualification';
export type { DeviceTestReport, DeviceTestOptions } from './qualification';
export * from './errors';

export * as model from './model';
export * as content from './content';
export * as coap from './coap';
export * as dtls from './dtls';
export * as server from './server';
export * as bootstrap from './bootstrap';
export * as client from './client';
export * as qualification from './qualification';
