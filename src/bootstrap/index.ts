/**
 * The LwM2M Bootstrap-Server library (OMA TS Core 1.1 / 1.2 section 6.1): the server, per-endpoint configurations and
 * the bootstrap sequence.
 */
export { BootstrapServer, DEFAULT_BOOTSTRAP_PORT, DEFAULT_SECURE_BOOTSTRAP_PORT } from './bootstrap-server';
export type {
  BootstrapServerOptions, BootstrapServerEvents, BootstrapRequestInfo, BootstrapRequestEvent, BootstrapConfigProvider,
  BootstrapSessionInfo, FinishedEvent, FailedEvent, ProvisioningSecurityStore, ProvisionedSecurityInfo,
} from './bootstrap-server';
export {
  InMemoryBootstrapConfigStore, validateBootstrapConfig, DEFAULT_CONFIG_KEY, SECURITY_MODE_NUMBER, WRITE_FORMATS,
} from './config';
export type {
  BootstrapConfig, BootstrapConfigStore, ServerAccountConfig, BootstrapAccountConfig, BootstrapWriteConfig, SecurityModeName,
  ValidatedConfig, ValidatedServer, ValidatedBootstrapAccount, ValidatedWrite,
} from './config';
export { BootstrapConfigError, BootstrapFailedError, BootstrapStateError, NoBootstrapConfigError } from './errors';
export type { BootstrapStep } from './errors';
export { planBootstrap, parseBootstrapDiscover, bootstrapAccountCandidates, packRecords, LIKELY_BOOTSTRAP_INSTANCES } from './plan';
export type { BootstrapPlan, BootstrapAccountSource, DeviceLayout, PlannedServer, PlannedWrite, PlanOptions } from './plan';
export type { ProvisionedServer, StepEvent, SessionState } from './session';
