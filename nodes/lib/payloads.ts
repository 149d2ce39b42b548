/**
 * How library objects appear in msg.payload: plain JSON-friendly objects.
 */
import { registrationObjects } from '../../src/server/registration';
import type { Registration } from '../../src/server/registration';
import { displayAddress } from './util';

/** A registration as the events node shows it; an IPv4 peer's address as IPv4, not IPv4-mapped IPv6. */
export function registrationPayload(reg: Registration): Record<string, unknown> {
  return {
    endpoint: reg.endpoint,
    id: reg.id,
    version: reg.version,
    binding: reg.binding,
    queueMode: reg.queueMode,
    lifetime: reg.lifetime,
    sms: reg.sms,
    address: displayAddress(reg.address),
    port: reg.port,
    rootPath: reg.rootPath,
    security: reg.security,
    identity: reg.identity,
    objects: registrationObjects(reg),
    contentFormats: reg.ct,
    registeredAt: new Date(reg.registeredAt),
    lastUpdateAt: new Date(reg.lastUpdateAt),
    expiresAt: new Date(reg.expiresAt),
  };
}
