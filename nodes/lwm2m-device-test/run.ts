/**
 * Runs the qualification suite (src/qualification) for the flow node and the sidebar: reads the options a message or a
 * request gives, and keeps one run per device at a time (two suites writing the same resources would fail each other).
 */
import type { Lwm2mServer } from '../../src/server/server';
import { runDeviceTest, DeviceTestOptions, DeviceTestReport } from '../../src/qualification';
import { FlowInputError } from '../lib/util';

const running = new WeakMap<Lwm2mServer, Set<string>>();

/** A case selection: an array of ids, or a comma / space separated list. Undefined for all cases. */
export function casesOf(raw: unknown): string[] | undefined {
  const list = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  const out = list.map((s) => s.trim()).filter(Boolean);
  return out.length ? out : undefined;
}

/** A positive number of seconds from a setting or a message, or undefined when not given; bad values throw. */
export function secondsOf(raw: unknown, what: string): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new FlowInputError(`${what}: expected seconds between 0 and 3600, got ${JSON.stringify(raw)}`);
  return n;
}

/** True while a suite runs against this device. */
export function isTesting(server: Lwm2mServer, endpoint: string): boolean {
  return running.get(server)?.has(endpoint) === true;
}

/** Runs the suite; rejects when the device is unknown or already under test. */
export async function runGuarded(server: Lwm2mServer, endpoint: string, opts: DeviceTestOptions): Promise<DeviceTestReport> {
  if (!server.getRegistration(endpoint)) {
    // The library's UnknownEndpointError, with the same text.
    return runDeviceTest(server, endpoint, opts);
  }
  let set = running.get(server);
  if (!set) running.set(server, (set = new Set()));
  if (set.has(endpoint)) throw new FlowInputError(`a device test of ${endpoint} is already running`);
  set.add(endpoint);
  try {
    return await runDeviceTest(server, endpoint, opts);
  } finally {
    set.delete(endpoint);
  }
}
