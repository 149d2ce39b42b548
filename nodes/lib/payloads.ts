/**
 * How library objects appear in msg.payload: plain JSON-friendly objects.
 */
import { registrationObjects } from '../../src/server/registration';
import type { Registration } from '../../src/server/registration';
import { displayAddress } from './util';

/**
 * A registration as the events node and the sidebar show it: an IPv4 peer's address as IPv4, not IPv4-mapped IPv6.
 * Fields the device did not give (SMS number, PSK identity, content formats) are left out rather than set to undefined.
 */
export function registrationPayload(reg: Registration): Record<string, unknown> {
  const out: Record<string, unknown> = {
    endpoint: reg.endpoint,
    id: reg.id,
    version: reg.version,
    binding: reg.binding,
    queueMode: reg.queueMode,
    lifetime: reg.lifetime,
  };
  if (reg.sms !== undefined) out.sms = reg.sms;
  out.address = displayAddress(reg.address);
  out.port = reg.port;
  out.rootPath = reg.rootPath;
  out.security = reg.security;
  if (reg.identity !== undefined) out.identity = reg.identity;
  out.objects = registrationObjects(reg);
  if (reg.ct !== undefined) out.contentFormats = reg.ct;
  out.registeredAt = new Date(reg.registeredAt);
  out.lastUpdateAt = new Date(reg.lastUpdateAt);
  out.expiresAt = new Date(reg.expiresAt);
  return out;
}
