/**
 * The LwM2M server library: registrations, device management, observations, Send, queue mode, security rules.
 */
export { Lwm2mServer } from './server';
export type {
  Lwm2mServerOptions, Lwm2mServerEvents, EndpointEntry, RegistrationChanges, NotificationEvent, SendEvent,
  SecurityViolationEvent, ObservationCancelledEvent, ObserveResult, ObserveOptions, CancelObservationOptions, ServerStats,
} from './server';
export type { Registration, RegisteredObject, Lwm2mVersion, SecurityMode } from './registration';
export { registrationObjects, describeRegistration, SUPPORTED_VERSIONS } from './registration';
export type { Observation } from './observation';
export type { RegistrationStore, Deregistration } from './store';
export { MemoryRegistrationStore } from './store';
export { FileRegistrationStore } from './file-store';
export type { FileRegistrationStoreOptions } from './file-store';
export type { SecurityInfo, SecurityStore, PskKeyLookup } from './security-store';
export { InMemorySecurityStore } from './security-store';
export {
  UnknownEndpointError, QueueTimeoutError, QueueFullError, ObserveRejectedError, UnknownObservationError,
  UnsupportedOperationError, InvalidArgumentError, ServerStateError, StoreError,
} from './errors';
// The library's general errors, re-exported so callers of the server need one import.
export {
  Lwm2mError, CoapResponseError, TimeoutError, CancelledError, InvalidPathError, DecodeError, EncodeError, UnsupportedFormatError,
} from '../errors';
export type { OperationOptions } from './requests/context';
export type {
  TrafficEvent, OutgoingTraffic, IncomingTraffic, NotificationTraffic, OutgoingOperation, IncomingOperation,
} from './traffic';
export type { ReadResult } from './requests/read';
export type { WriteOptions, WriteResult } from './requests/write';
export type { ExecuteArgs, ExecuteResult } from './requests/execute';
export type { CreateResult } from './requests/create';
export type { DeleteResult } from './requests/delete';
export type { DiscoverResult } from './requests/discover';
export type { NotificationAttributes, WriteAttributesResult } from './requests/write-attributes';
export type { CompositeReadResult } from './requests/read-composite';
export type { CompositeWriteResult } from './requests/write-composite';
