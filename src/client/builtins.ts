/**
 * Default instances of the OMA core objects a client carries (OMA TS Core 1.1 Appendix E / D):
 * 0 Security and 1 Server (built from the client's server accounts), 3 Device, 4 Connectivity Monitoring,
 * 5 Firmware Update, 6 Location. Values only: types and operations come from the model registry.
 */
import { InstanceInput } from './object-tree';

export interface DeviceInfo {
  manufacturer?: string;
  model?: string;
  serial?: string;
  firmwareVersion?: string;
  hardwareVersion?: string;
  softwareVersion?: string;
  deviceType?: string;
  /** ISO 8601 offset, e.g. `+01:00`. */
  utcOffset?: string;
  /** IANA zone, e.g. `Europe/Paris`. */
  timezone?: string;
  /** Battery level in percent (resource 9). */
  batteryLevel?: number;
}

/** A server account as the Security (0) and Server (1) objects hold it. */
export interface ServerAccount {
  uri: string;
  /** Short Server ID (1..65534); absent for a Bootstrap-Server. */
  ssid?: number;
  bootstrap: boolean;
  /** Security Mode (Security /0/x/2): 0 PSK, 3 NoSec. */
  securityMode: number;
  /** PSK identity (Security /0/x/3). */
  identity?: Buffer;
  /** PSK (Security /0/x/5). */
  key?: Buffer;
  /** Registration lifetime (Server /1/x/1), seconds. */
  lifetime?: number;
  /** Binding (Server /1/x/7), e.g. `U` or `UQ`. */
  binding?: string;
  defaultPmin?: number;
  defaultPmax?: number;
}

/** Security Mode values (Core E.1, resource 2). */
export const SecurityMode = { PSK: 0, RPK: 1, CERTIFICATE: 2, NOSEC: 3, EST: 4 } as const;

export function securityInstance(a: ServerAccount): InstanceInput {
  const v: Record<number, unknown> = {
    0: a.uri,
    1: a.bootstrap,
    2: a.securityMode,
    3: a.identity ?? Buffer.alloc(0),
    4: Buffer.alloc(0),
    5: a.key ?? Buffer.alloc(0),
  };
  if (a.ssid !== undefined) v[10] = a.ssid;
  return v;
}

export function serverInstance(a: ServerAccount & { ssid: number }): InstanceInput {
  const v: Record<number, unknown> = {
    0: a.ssid,
    1: a.lifetime ?? 86400,
    4: null,
    5: 86400,
    6: false,
    7: a.binding ?? 'U',
    8: null,
  };
  if (a.defaultPmin !== undefined) v[2] = a.defaultPmin;
  if (a.defaultPmax !== undefined) v[3] = a.defaultPmax;
  return v;
}

export function deviceInstance(info: DeviceInfo, supportedBindings: string): InstanceInput {
  const v: Record<number, unknown> = {
    0: info.manufacturer ?? 'FleetWire',
    1: info.model ?? 'Virtual Device',
    2: info.serial ?? '0000',
    3: info.firmwareVersion ?? '1.0.0',
    4: null,
    5: null,
    11: [0],
    13: new Date(),
    16: supportedBindings,
  };
  if (info.hardwareVersion !== undefined) v[18] = info.hardwareVersion;
  if (info.softwareVersion !== undefined) v[19] = info.softwareVersion;
  if (info.deviceType !== undefined) v[17] = info.deviceType;
  if (info.utcOffset !== undefined) v[14] = info.utcOffset;
  if (info.timezone !== undefined) v[15] = info.timezone;
  if (info.batteryLevel !== undefined) v[9] = info.batteryLevel;
  return v;
}

/** Connectivity Monitoring: Ethernet (41) bearer by default, as a simulated device on a LAN would have. */
export function connectivityInstance(ip: string): InstanceInput {
  return { 0: 41, 1: [41], 2: -60, 4: [ip] };
}

/** Firmware Update in state Idle (0), result Initial (0), push and pull delivery (2), CoAP pull (0). */
export function firmwareInstance(): InstanceInput {
  return { 0: Buffer.alloc(0), 1: '', 2: null, 3: 0, 5: 0, 8: [0], 9: 2 };
}

export function locationInstance(lat = 0, lon = 0): InstanceInput {
  return { 0: lat, 1: lon, 5: new Date() };
}
