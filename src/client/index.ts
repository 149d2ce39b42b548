/**
 * The embedded LwM2M client library: a device or gateway that registers with LwM2M servers, answers their operations,
 * reports observed values per notification attributes, bootstraps, sleeps in queue mode, and a virtual fleet of them.
 */
export { Lwm2mClient, parseServerUri } from './client';
export type {
  Lwm2mClientOptions, ClientState, ObjectsInput, WriteEvent, ExecuteEvent, ReadHook, EndpointFactory, DtlsConnector,
} from './client';
export { createFleet, Fleet } from './fleet';
export type { FleetOptions, FleetStats } from './fleet';
export type { BootstrapOptions } from './bootstrap';
export { validateBootstrapConfig } from './bootstrap';
export { ObjectTree } from './object-tree';
export type { StoredValue, InstanceValues, InstanceInput } from './object-tree';
export type { DeviceInfo } from './builtins';
export { SecurityMode } from './builtins';
export { Scheduler, ManualScheduler, Task, defaultScheduler } from './scheduler';
export {
  AttributeStore, parseAttributeQuery, valueConditionMet, formatAttributes, effectivePeriods,
} from './attributes';
export type { NotificationAttributes, AttributeChange, AttributeName } from './attributes';
export { parseExecuteArguments, formatExecuteArguments } from './execute-args';
export type { ExecuteArgument } from './execute-args';
export { InvalidValueError, NotFoundError, ClientStateError, ClientConfigError } from './errors';
export type { ClientVersion } from './content';
export type { SessionState } from './session';
