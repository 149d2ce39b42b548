/**
 * The cases of the device qualification suite.
 *
 * Ids: the three registration cases carry the OMA Enabler Test Specification (Interoperability) ids their titles name
 * (LightweightM2M-1.1-int-101 Initial Registration, -102 Registration Update, -103 Deregistration). Every other case
 * has an id of ours (`FW-<area>-<n>`, `etsId` undefined): we do not map them onto ETS numbers we could not check.
 *
 * Spec references are to OMA TS LightweightM2M Core 1.1 (Core 1.0.2 / 1.2 have the same behaviour in the sections
 * with the same titles) and RFC 7252 / RFC 7641.
 */
import { CoapResponseError, DecodeError, TimeoutError } from '../errors';
import { ContentFormat, formatName } from '../content/formats';
import { Lwm2mRecord, Lwm2mValue } from '../content/values';
import { Lwm2mPath } from '../model/path';
import { ResourceDef } from '../model/types';
import { SUPPORTED_VERSIONS } from '../server/registration';
import type { Registration } from '../server/registration';
import { CaseContext, CaseOutcome, TestCase } from './types';
import { alternateValue, sameValue, showValue, typeProblem } from './values';

const pass = (reason: string): CaseOutcome => ({ verdict: 'pass', reason });
const fail = (reason: string): CaseOutcome => ({ verdict: 'fail', reason });
const na = (reason: string): CaseOutcome => ({ verdict: 'na', reason });

/** Formats able to carry an object instance (several values). */
const MULTI_FORMATS = [ContentFormat.TLV, ContentFormat.LWM2M_JSON, ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR, ContentFormat.LWM2M_CBOR];
/** Single-value formats checked on a single resource (opaque needs an opaque resource: not in objects 1 / 3's mandatory set). */
const SINGLE_FORMATS = [ContentFormat.TEXT, ContentFormat.CBOR];

/**
 * Writable resources the write / read-back case uses, per object: ones a device keeps working through (lifetime, default
 * periods, time zone settings). Left out on purpose: Binding (1/x/7) and Preferred Transport (1/x/22) would move the
 * device off this transport; Current Time (3/0/13) would move its clock (certificate checks, logs) and many devices
 * take it from the network anyway; links (objlnk); Security objects 0 / 21 are never written.
 */
const WRITE_SAFE: Record<number, number[]> = {
  1: [1, 2, 3, 5, 6],
  3: [14, 15],
};

/** Objects the create / delete case never touches: the core objects a device needs to stay managed. */
const NO_CREATE = new Set([0, 1, 2, 3, 4, 5, 21]);

/** The first Server object instance the device registered (its account on this server, usually). */
function serverInstance(ctx: CaseContext): number | undefined {
  return ctx.objects[1]?.[0];
}

function versionAtLeast(reg: Registration, v: '1.1' | '1.2'): boolean {
  return SUPPORTED_VERSIONS.indexOf(reg.version) >= SUPPORTED_VERSIONS.indexOf(v);
}

/** Short text of an error for a reason line. */
export function errorText(err: unknown): string {
  if (err instanceof CoapResponseError) return `answered ${err.coapCode}${err.diagnostic ? ` (${err.diagnostic})` : ''}`;
  if (err instanceof TimeoutError) return `no answer within ${err.timeoutMs} ms`;
  if (err instanceof DecodeError) return `wrong content: ${withoutSubject(err.message.replace(/^cannot decode content format \d+: /, ''))}`;
  return withoutSubject((err as Error)?.message ?? String(err));
}

/** `dev1 /1/0: /1/0/1: "x" is not ...` -> `/1/0/1: "x" is not ...`: the case's reason already names device and request. */
function withoutSubject(message: string): string {
  return message.replace(/^.*? \/[0-9/]*: /, '');
}

function codeOf(err: unknown): string | undefined {
  return err instanceof CoapResponseError ? err.coapCode : undefined;
}

/** Problems of the records of a read: missing mandatory readable resources, values of the wrong type. */
function checkRecords(ctx: CaseContext, target: Lwm2mPath, records: Lwm2mRecord[], expectMandatory: boolean): string[] {
  const problems: string[] = [];
  const objectId = target.objectId!;
  const seen = new Set<number>();
  for (const r of records) {
    if (r.path.objectId !== objectId || r.path.resourceId === undefined) continue;
    seen.add(r.path.resourceId);
    const def = ctx.registry.getResource(objectId, r.path.resourceId);
    if (!def || r.value === undefined) continue;
    const p = typeProblem(def.type, r.value);
    if (p) problems.push(`${r.path}: ${p}`);
  }
  if (expectMandatory) {
    const def = ctx.registry.getObject(objectId);
    for (const res of Object.values(def?.resources ?? {})) {
      // A mandatory multiple resource may have no instances (Core 1.1 7.3.1, e.g. 3/0/11 with no error): not required here.
      if (res.mandatory && res.operations.includes('R') && !res.multiple && !seen.has(res.id)) {
        problems.push(`${target}/${res.id} (${res.name}, mandatory) missing`);
      }
    }
  }
  return problems;
}

/** Mandatory readable single resources of an object, plus `extra` ids. */
function readableResources(ctx: CaseContext, objectId: number, extra: number[] = []): ResourceDef[] {
  const def = ctx.registry.getObject(objectId);
  if (!def) return [];
  return Object.values(def.resources).filter((r) => r.operations.includes('R') && !r.multiple && (r.mandatory || extra.includes(r.id)));
}

function waitFor<T>(ctx: CaseContext, event: 'updated' | 'registered' | 'deregistered', timeoutMs: number, match: (reg: Registration) => boolean): { promise: Promise<Registration | undefined>; cancel(): void } {
  let listener: ((reg: Registration) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<Registration | undefined>((resolve) => {
    listener = (reg: Registration) => {
      if (!match(reg)) return;
      clearTimeout(timer);
      ctx.server.off(event, listener as never);
      resolve(reg);
    };
    ctx.server.on(event, listener as never);
    timer = setTimeout(() => {
      ctx.server.off(event, listener as never);
      resolve(undefined);
    }, timeoutMs);
  });
  return {
    promise,
    cancel: () => {
      clearTimeout(timer);
      if (listener) ctx.server.off(event, listener as never);
    },
  };
}

// ------------------------------------------------------------------------------------------------ registration

const initialRegistration: TestCase = {
  id: 'LightweightM2M-1.1-int-101',
  etsId: 'LightweightM2M-1.1-int-101',
  title: 'Initial Registration',
  specRef: 'Core 1.1 6.2.1 Register',
  description: 'The device registered with a supported LwM2M version, a lifetime, a valid binding and an object list naming the Server (1) and Device (3) objects, without the Security object.',
  async run(ctx) {
    const reg = ctx.registration;
    ctx.note({
      operation: 'register', path: '/rd', durationMs: 0,
      request: `ep=${reg.endpoint} lwm2m=${reg.version} lt=${reg.lifetime} b=${reg.binding}${reg.queueMode ? ' Q' : ''}${reg.ct ? ` ct=${reg.ct.join(',')}` : ''} objects: ${reg.objectLinks}`,
      answer: `2.01 Created, location /rd/${reg.id}`, code: '2.01',
    });
    const problems: string[] = [];
    if (!SUPPORTED_VERSIONS.includes(reg.version)) problems.push(`LwM2M version ${reg.version} not supported`);
    if (!(reg.lifetime > 0)) problems.push(`lifetime ${reg.lifetime}`);
    if (!/^[UTSN]+Q?$|^[UTSN]*Q?[UTSN]*$/.test(reg.binding)) problems.push(`binding "${reg.binding}" is not a binding mode`);
    if (!ctx.objects[1]) problems.push('Server object (1) not in the object list');
    if (!ctx.objects[3]) problems.push('Device object (3) not in the object list');
    // Core 1.1 6.2.1: "the Security Object ... MUST NOT be part of the Registration Objects and Object Instances list".
    if (ctx.objects[0] && ctx.objects[0].length > 0) problems.push('Security object instances (0) in the object list');
    return problems.length ? fail(problems.join('; ')) : pass(`registered as LwM2M ${reg.version}, lifetime ${reg.lifetime} s, binding ${reg.binding}`);
  },
};

const registrationUpdate: TestCase = {
  id: 'LightweightM2M-1.1-int-102',
  etsId: 'LightweightM2M-1.1-int-102',
  title: 'Registration Update',
  specRef: 'Core 1.1 6.2.2 Update; E.2 Server object, Registration Update Trigger (1/x/8)',
  description: 'Executing the Registration Update Trigger of the Server object makes the device send an Update.',
  precondition: (ctx) => (serverInstance(ctx) === undefined ? 'no Server object instance registered' : undefined),
  async run(ctx) {
    const path = `/1/${serverInstance(ctx)}/8`;
    const wait = waitFor(ctx, 'updated', ctx.options.eventTimeoutMs, (r) => r.endpoint === ctx.endpoint);
    const t0 = performance.now();
    try {
      await ctx.step('execute', path, (o) => ctx.server.execute(ctx.endpoint, path, undefined, o));
    } catch (err) {
      wait.cancel();
      return fail(`Registration Update Trigger ${path}: ${errorText(err)}, expected 2.04`);
    }
    const got = await wait.promise;
    const ms = Math.round(performance.now() - t0);
    ctx.note({ operation: 'update', path: '/rd', durationMs: ms, answer: got ? 'Update received' : 'no Update' });
    return got ? pass(`Update ${ms} ms after the trigger`) : fail(`no Update within ${ctx.options.eventTimeoutMs} ms after executing ${path}`);
  },
};

const deregistration: TestCase = {
  id: 'LightweightM2M-1.1-int-103',
  etsId: 'LightweightM2M-1.1-int-103',
  title: 'Deregistration',
  specRef: 'Core 1.1 6.2.3 De-register; E.2 Server object, Disable (1/x/4), Disable Timeout (1/x/5)',
  description: 'Executing Disable makes the device de-register; after a Disable Timeout set to 5 s it registers again.',
  destructive: true,
  precondition: (ctx) => (serverInstance(ctx) === undefined ? 'no Server object instance registered' : undefined),
  async run(ctx) {
    const inst = serverInstance(ctx);
    const timeoutPath = `/1/${inst}/5`;
    let original: unknown;
    try {
      original = (await ctx.step('read', timeoutPath, (o) => ctx.server.read(ctx.endpoint, timeoutPath, o), { answer: (r) => r.value })).value;
      await ctx.step('write', timeoutPath, (o) => ctx.server.write(ctx.endpoint, timeoutPath, 5, o), { request: 5 });
    } catch (err) {
      // Without a Disable Timeout the device would stay away for the default of a day (Appendix E.2): not run.
      if (codeOf(err) === '4.04') return na(`the device has no Disable Timeout ${timeoutPath}: Disable would keep it away for a day`);
      return fail(`cannot set Disable Timeout ${timeoutPath} to 5 s: ${errorText(err)}`);
    }
    const gone = waitFor(ctx, 'deregistered', ctx.options.eventTimeoutMs, (r) => r.endpoint === ctx.endpoint);
    const back = waitFor(ctx, 'registered', ctx.options.eventTimeoutMs + 5000, (r) => r.endpoint === ctx.endpoint);
    const t0 = performance.now();
    try {
      await ctx.step('execute', `/1/${inst}/4`, (o) => ctx.server.execute(ctx.endpoint, `/1/${inst}/4`, undefined, o));
    } catch (err) {
      gone.cancel(); back.cancel();
      return fail(`Disable /1/${inst}/4: ${errorText(err)}, expected 2.04`);
    }
    const left = await gone.promise;
    ctx.note({ operation: 'deregister', path: '/rd', durationMs: Math.round(performance.now() - t0), answer: left ? 'De-register received' : 'none' });
    if (!left) {
      back.cancel();
      return fail(`no De-register within ${ctx.options.eventTimeoutMs} ms after Disable`);
    }
    const again = await back.promise;
    ctx.note({ operation: 'register', path: '/rd', durationMs: Math.round(performance.now() - t0), answer: again ? 'registered again' : 'not back' });
    if (!again) return fail('de-registered, but did not register again after the 5 s Disable Timeout');
    if (typeof original === 'number') {
      await ctx.step('write', timeoutPath, (o) => ctx.server.write(ctx.endpoint, timeoutPath, original, o), { request: original }).catch(() => undefined);
    }
    return pass('de-registered on Disable and registered again after the Disable Timeout');
  },
};

const lifetime: TestCase = {
  id: 'FW-REG-001',
  title: 'Update before the lifetime expires',
  specRef: 'Core 1.1 6.2.2 Update ("MUST perform Update ... before the Lifetime expires")',
  description: 'Waits for the next Update; it must come before the registration lifetime runs out.',
  precondition: (ctx) => (ctx.registration.lifetime > ctx.options.maxLifetimeWaitS
    ? `lifetime ${ctx.registration.lifetime} s is longer than the ${ctx.options.maxLifetimeWaitS} s this suite waits`
    : undefined),
  async run(ctx) {
    const reg = ctx.registration;
    const deadline = reg.lastUpdateAt + reg.lifetime * 1000;
    const slack = ctx.options.lateToleranceMs;
    const wait = waitFor(ctx, 'updated', Math.max(0, deadline - Date.now()) + slack, (r) => r.endpoint === ctx.endpoint);
    const t0 = Date.now();
    const got = await wait.promise;
    const at = Date.now();
    ctx.note({ operation: 'update', path: '/rd', durationMs: at - t0, answer: got ? `Update ${at - reg.lastUpdateAt} ms after the last one` : 'no Update' });
    if (!got) return fail(`no Update within the lifetime of ${reg.lifetime} s (waited until ${slack} ms past it)`);
    const sinceLast = at - reg.lastUpdateAt;
    if (sinceLast > reg.lifetime * 1000 + slack) return fail(`Update ${sinceLast} ms after the previous one, lifetime is ${reg.lifetime} s`);
    return pass(`Update ${sinceLast} ms after the previous one (lifetime ${reg.lifetime} s)`);
  },
};

const queueMode: TestCase = {
  id: 'FW-QM-001',
  title: 'Queue mode: a request waits for the device and is answered',
  specRef: 'Core 1.1 6.5 Queue Mode (Transport 1.1 6.x), 6.2.1 Q parameter',
  description: 'For a device that registered in queue mode, a Read is held until the device is reachable, then answered 2.05.',
  precondition: (ctx) => (!ctx.registration.queueMode ? 'device did not register in queue mode'
    : ctx.registration.lifetime > ctx.options.maxLifetimeWaitS ? `lifetime ${ctx.registration.lifetime} s is longer than the ${ctx.options.maxLifetimeWaitS} s this suite waits` : undefined),
  async run(ctx) {
    const path = `/1/${serverInstance(ctx) ?? 0}/1`;
    const wasAwake = ctx.server.isAwake(ctx.endpoint);
    try {
      const r = await ctx.step('read', path, (o) => ctx.server.read(ctx.endpoint, path, { ...o, timeoutMs: undefined }), { answer: (x) => x.value });
      return pass(`answered ${r.code}${wasAwake ? ' (device was awake)' : ' after waking up'}`);
    } catch (err) {
      return fail(`queued Read ${path}: ${errorText(err)}`);
    }
  },
};

// ------------------------------------------------------------------------------------------------ device management

/** One case per content format: Read of /3/0 and the Server instance in it. */
function readInFormat(format: number): TestCase {
  const multi = MULTI_FORMATS.includes(format as never);
  return {
    id: `FW-DM-001-${format}`,
    title: `Read in ${formatName(format)} (${format})`,
    specRef: multi ? 'Core 1.1 6.3.1 Read, 7.4 Data Formats; RFC 7252 5.10.4 Accept' : 'Core 1.1 6.3.1 Read, 7.4.1 Plain Text / 7.4.7 CBOR; RFC 7252 5.10.4 Accept',
    description: multi
      ? 'Reads /3/0 and the Server object instance with Accept set to this format: 2.05, the same Content-Format, every mandatory readable resource present with a value of its type.'
      : 'Reads the mandatory resources of /3/0 and the Server object instance one by one with Accept set to this format: 2.05, the same Content-Format, values of their type.',
    async run(ctx) {
      const problems: string[] = [];
      const targets = [Lwm2mPath.parse('/3/0')];
      const inst = serverInstance(ctx);
      if (inst !== undefined) targets.push(Lwm2mPath.parse(`/1/${inst}`));
      const paths = multi ? targets : targets.flatMap((t) => readableResources(ctx, t.objectId!).map((r) => t.child(r.id)));
      for (const p of paths) {
        try {
          const r = await ctx.step('read', p.toString(), (o) => ctx.server.read(ctx.endpoint, p, { ...o, format }), { format, answer: (x) => x.value });
          if (r.format !== format) problems.push(`${p}: answered in ${r.format}, asked for ${format}`);
          problems.push(...checkRecords(ctx, p, r.records, multi));
        } catch (err) {
          const code = codeOf(err);
          problems.push(code === '4.06' || code === '4.15'
            ? `${p}: refused ${formatName(format)} (${code}) although the device announced it`
            : `${p}: ${errorText(err)}`);
        }
      }
      return problems.length ? fail(problems.join('; ')) : pass(`${paths.length} read(s) in ${formatName(format)}`);
    },
  };
}

const readResources: TestCase = {
  id: 'FW-DM-002',
  title: 'Read of each mandatory resource of objects 1 and 3',
  specRef: 'Core 1.1 6.3.1 Read; Appendix E.2 / E.4 (mandatory resources), Appendix C (data types)',
  description: 'Reads each mandatory readable resource of /3/0 and of the Server instance (and Manufacturer, Model, Serial, Firmware Version when present) in the negotiated format: 2.05 with a value of the resource\'s type; an optional resource may answer 4.04.',
  async run(ctx) {
    const problems: string[] = [];
    let count = 0;
    const inst = serverInstance(ctx);
    const groups: Array<[number, number, number[]]> = [[3, 0, [0, 1, 2, 3]]];
    if (inst !== undefined) groups.push([1, inst, []]);
    for (const [oid, iid, extra] of groups) {
      for (const def of readableResources(ctx, oid, extra)) {
        const p = `/${oid}/${iid}/${def.id}`;
        count++;
        try {
          const r = await ctx.step('read', p, (o) => ctx.server.read(ctx.endpoint, p, o), { answer: (x) => x.value });
          if (r.code !== '2.05') problems.push(`${p}: answered ${r.code}, expected 2.05`);
          const tp = typeProblem(def.type, r.value);
          if (tp) problems.push(`${p} (${def.name}): wrong type: ${tp}`);
        } catch (err) {
          if (!def.mandatory && codeOf(err) === '4.04') continue;
          problems.push(`${p} (${def.name}): ${errorText(err)}${codeOf(err) && codeOf(err)!.startsWith('2.') ? ', expected 2.05' : ''}`);
        }
      }
    }
    return problems.length ? fail(problems.join('; ')) : pass(`${count} resources read with values of their types`);
  },
};

const writeReadBack: TestCase = {
  id: 'FW-DM-003',
  title: 'Write, read back and restore writable resources',
  specRef: 'Core 1.1 6.3.3 Write; Appendix E.2 / E.4',
  description: 'For each writable resource of the Server instance and /3/0 the device has (Lifetime, default pmin / pmax, Disable Timeout, Notification Storing, UTC Offset, Timezone): reads it, writes another valid value of its type (2.04), reads it back (the new value), and writes the original back.',
  async run(ctx) {
    const problems: string[] = [];
    const done: string[] = [];
    const targets: Array<[number, number]> = [[3, 0]];
    const inst = serverInstance(ctx);
    if (inst !== undefined) targets.unshift([1, inst]);
    for (const [oid, iid] of targets) {
      const ipath = `/${oid}/${iid}`;
      let present: Record<string, unknown>;
      try {
        const r = await ctx.step('read', ipath, (o) => ctx.server.read(ctx.endpoint, ipath, o), { answer: (x) => x.value });
        present = (r.value ?? {}) as Record<string, unknown>;
      } catch (err) {
        problems.push(`${ipath}: ${errorText(err)}`);
        continue;
      }
      for (const rid of WRITE_SAFE[oid] ?? []) {
        const def = ctx.registry.getResource(oid, rid);
        if (!def || !def.operations.includes('W') || def.multiple || !(rid in present)) continue;
        const p = `${ipath}/${rid}`;
        const original = present[rid] as Lwm2mValue;
        const next = alternateValue(oid, def, original);
        if (next === undefined) continue;
        try {
          await ctx.step('write', p, (o) => ctx.server.write(ctx.endpoint, p, next, o), { request: next });
        } catch (err) {
          problems.push(`${p} (${def.name}) write ${showValue(next, 40)}: ${errorText(err)}, expected 2.04`);
          continue;
        }
        try {
          const back = await ctx.step('read', p, (o) => ctx.server.read(ctx.endpoint, p, o), { answer: (x) => x.value });
          if (!sameValue(def.type, next, back.value)) problems.push(`${p} (${def.name}): wrote ${showValue(next, 40)}, read back ${showValue(back.value, 40)}`);
          else done.push(p);
        } catch (err) {
          problems.push(`${p} (${def.name}) read back: ${errorText(err)}`);
        }
        try {
          await ctx.step('write', p, (o) => ctx.server.write(ctx.endpoint, p, original, o), { request: original });
        } catch (err) {
          problems.push(`${p} (${def.name}) restoring ${showValue(original, 40)}: ${errorText(err)}`);
        }
      }
    }
    if (problems.length) return fail(problems.join('; '));
    return done.length ? pass(`written, read back and restored: ${done.join(', ')}`) : na('the device has none of the writable resources this case uses');
  },
};

const executeRefused: TestCase = {
  id: 'FW-DM-004',
  title: 'Execute on a non-executable resource is refused',
  specRef: 'Core 1.1 6.3.5 Execute (4.05 Method Not Allowed: "the Resource is not executable")',
  description: 'Executes /3/0/16 (Supported Binding and Modes, readable only): the device must answer 4.05 and not act.',
  async run(ctx) {
    const p = '/3/0/16';
    try {
      await ctx.step('execute', p, (o) => ctx.server.execute(ctx.endpoint, p, undefined, o));
      return fail(`${p}: answered 2.04 to Execute of a readable resource, expected 4.05`);
    } catch (err) {
      const code = codeOf(err);
      if (code === '4.05') return pass('answered 4.05 Method Not Allowed');
      if (code === '4.00' || code === '4.01' || code === '4.04') return fail(`${p}: answered ${code}, expected 4.05 Method Not Allowed`);
      return fail(`${p}: ${errorText(err)}, expected 4.05`);
    }
  },
};

const readAbsent: TestCase = {
  id: 'FW-DM-005',
  title: 'Read of an absent object instance answers 4.04',
  specRef: 'Core 1.1 6.3.1 Read (4.04 Not Found)',
  description: 'Reads /3/1 (the Device object has the single instance 0): the device must answer 4.04 Not Found.',
  async run(ctx) {
    const p = '/3/1';
    try {
      const r = await ctx.step('read', p, (o) => ctx.server.read(ctx.endpoint, p, o), { answer: (x) => x.value });
      return fail(`${p}: answered ${r.code} with a value, expected 4.04`);
    } catch (err) {
      const code = codeOf(err);
      return code === '4.04' ? pass('answered 4.04 Not Found') : fail(`${p}: ${errorText(err)}, expected 4.04 Not Found`);
    }
  },
};

const createDelete: TestCase = {
  id: 'FW-DM-006',
  title: 'Create and Delete an object instance',
  specRef: 'Core 1.1 6.3.6 Create, 6.3.7 Delete',
  description: 'On the first multiple-instance application object the device registered with an instance: creates an instance with the values of an existing one (2.01), reads it (2.05), deletes it (2.02), reads it again (4.04).',
  precondition(ctx) {
    return createTarget(ctx) ? undefined : 'no multiple-instance application object with an instance registered';
  },
  async run(ctx) {
    const [oid, iid] = createTarget(ctx)!;
    const def = ctx.registry.getObject(oid)!;
    let source: Record<string, unknown>;
    try {
      const r = await ctx.step('read', `/${oid}/${iid}`, (o) => ctx.server.read(ctx.endpoint, `/${oid}/${iid}`, o), { answer: (x) => x.value });
      source = (r.value ?? {}) as Record<string, unknown>;
    } catch (err) {
      return fail(`/${oid}/${iid}: ${errorText(err)}`);
    }
    // The values of the mandatory resources (a Create carries the values the new instance starts with, Core 6.3.6).
    const values: Record<string, unknown> = {};
    for (const res of Object.values(def.resources)) if (res.mandatory && res.id in source && res.operations !== 'E') values[res.id] = source[res.id];
    let created: { instanceId: number; path: string };
    try {
      created = await ctx.step('create', `/${oid}`, (o) => ctx.server.create(ctx.endpoint, oid, values, undefined, o), { request: values, answer: (x) => x.path });
    } catch (err) {
      const code = codeOf(err);
      if (code === '4.05') return na(`the device does not allow Create on /${oid} (4.05)`);
      return fail(`Create on /${oid}: ${errorText(err)}, expected 2.01`);
    }
    const problems: string[] = [];
    try {
      await ctx.step('read', created.path, (o) => ctx.server.read(ctx.endpoint, created.path, o), { answer: (x) => x.value });
    } catch (err) {
      problems.push(`new instance ${created.path}: ${errorText(err)}`);
    }
    try {
      await ctx.step('delete', created.path, (o) => ctx.server.delete(ctx.endpoint, created.path, o));
    } catch (err) {
      return fail([...problems, `Delete ${created.path}: ${errorText(err)}, expected 2.02`].join('; '));
    }
    try {
      await ctx.step('read', created.path, (o) => ctx.server.read(ctx.endpoint, created.path, o), { answer: (x) => x.value });
      problems.push(`${created.path} still readable after Delete`);
    } catch (err) {
      if (codeOf(err) !== '4.04') problems.push(`read after Delete ${created.path}: ${errorText(err)}, expected 4.04`);
    }
    return problems.length ? fail(problems.join('; ')) : pass(`created ${created.path}, read it, deleted it`);
  },
};

function createTarget(ctx: CaseContext): [number, number] | undefined {
  for (const [id, instances] of Object.entries(ctx.objects)) {
    const oid = Number(id);
    if (NO_CREATE.has(oid) || instances.length === 0) continue;
    const def = ctx.registry.getObject(oid);
    if (def?.multiple) return [oid, instances[0]];
  }
  return undefined;
}

const discoverDevice: TestCase = {
  id: 'FW-DM-007',
  title: 'Discover of the Device object instance',
  specRef: 'Core 1.1 6.3.4 Discover; 5.2.3 / 7.2 link format',
  description: 'Discovers /3/0: 2.05 in application/link-format listing the instance and its mandatory resources.',
  async run(ctx) {
    try {
      const r = await ctx.step('discover', '/3/0', (o) => ctx.server.discover(ctx.endpoint, '/3/0', o), {
        format: ContentFormat.LINK, answer: (x) => x.entries.map((e) => e.path.toString()).join(','),
      });
      const listed = new Set(r.entries.map((e) => e.path.toString()));
      const def = ctx.registry.getObject(3);
      const missing = Object.values(def?.resources ?? {}).filter((res) => res.mandatory && !listed.has(`/3/0/${res.id}`)).map((res) => `/3/0/${res.id}`);
      return missing.length ? fail(`Discover does not list mandatory resources ${missing.join(', ')}`) : pass(`${r.entries.length} links`);
    } catch (err) {
      return fail(`Discover /3/0: ${errorText(err)}`);
    }
  },
};

const reboot: TestCase = {
  id: 'FW-DM-008',
  title: 'Reboot',
  specRef: 'Core 1.1 Appendix E.4 Device object, Reboot (3/0/4); 6.2.1 Register',
  description: 'Executes Reboot: 2.04, then the device registers again.',
  destructive: true,
  async run(ctx) {
    const back = waitFor(ctx, 'registered', ctx.options.eventTimeoutMs, (r) => r.endpoint === ctx.endpoint);
    const t0 = performance.now();
    try {
      await ctx.step('execute', '/3/0/4', (o) => ctx.server.execute(ctx.endpoint, '/3/0/4', undefined, o));
    } catch (err) {
      back.cancel();
      return fail(`Reboot /3/0/4: ${errorText(err)}, expected 2.04`);
    }
    const again = await back.promise;
    const ms = Math.round(performance.now() - t0);
    ctx.note({ operation: 'register', path: '/rd', durationMs: ms, answer: again ? 'registered again' : 'not back' });
    return again ? pass(`registered again ${ms} ms after Reboot`) : fail(`not registered again within ${ctx.options.eventTimeoutMs} ms after Reboot`);
  },
};

const factoryReset: TestCase = {
  id: 'FW-DM-009',
  title: 'Factory Reset',
  specRef: 'Core 1.1 Appendix E.4 Device object, Factory Reset (3/0/5)',
  description: 'Executes Factory Reset: the device answers 2.04 (what it does next depends on its factory configuration).',
  destructive: true,
  async run(ctx) {
    try {
      await ctx.step('execute', '/3/0/5', (o) => ctx.server.execute(ctx.endpoint, '/3/0/5', undefined, o));
      return pass('answered 2.04');
    } catch (err) {
      if (codeOf(err) === '4.04' || codeOf(err) === '4.05') return na(`the device has no Factory Reset (${codeOf(err)})`);
      return fail(`Factory Reset /3/0/5: ${errorText(err)}, expected 2.04`);
    }
  },
};

// ------------------------------------------------------------------------------------------------ information reporting

const observeTiming: TestCase = {
  id: 'FW-IR-001',
  title: 'Write-Attributes pmin / pmax and Observe timing',
  specRef: 'Core 1.1 6.3.4 Write-Attributes, 7.3 Notification attributes (pmin, pmax), 6.4.1 Observe; RFC 7641',
  description: 'Writes pmin / pmax on the Server instance\'s Lifetime (2.04), observes it (2.05), and measures the notifications: none earlier than pmin, none later than pmax (with the tolerances stated in the report\'s options); then cancels and removes the attributes.',
  precondition: (ctx) => (serverInstance(ctx) === undefined ? 'no Server object instance registered' : undefined),
  async run(ctx) {
    const path = `/1/${serverInstance(ctx)}/1`;
    const { pmin, pmax, earlyToleranceMs, lateToleranceMs } = ctx.options;
    try {
      await ctx.step('write-attributes', path, (o) => ctx.server.writeAttributes(ctx.endpoint, path, { pmin, pmax }, o), { request: `pmin=${pmin}&pmax=${pmax}` });
    } catch (err) {
      return fail(`Write-Attributes ${path} pmin=${pmin}&pmax=${pmax}: ${errorText(err)}, expected 2.04`);
    }
    const arrivals: Array<{ at: number; obs: string; value: unknown }> = [];
    const onNote = (ev: { registration: Registration; observation: { id: string }; value: unknown }): void => {
      if (ev.registration.endpoint === ctx.endpoint) arrivals.push({ at: performance.now(), obs: ev.observation.id, value: ev.value });
    };
    ctx.server.on('notification', onNote as never);
    let obsId: string | undefined;
    const problems: string[] = [];
    try {
      let t0: number;
      try {
        const r = await ctx.step('observe', path, (o) => ctx.server.observe(ctx.endpoint, path, o), { answer: (x) => x.value });
        t0 = performance.now();
        obsId = r.id;
      } catch (err) {
        return fail(`Observe ${path}: ${errorText(err)}, expected 2.05 with an Observe option`);
      }
      const wanted = 2;
      const limit = pmax * 1000 + lateToleranceMs;
      let last = t0;
      for (let n = 1; n <= wanted; n++) {
        // Wait for the n-th notification, at most `limit` after the previous one.
        while (arrivals.filter((a) => a.obs === obsId).length < n && performance.now() - last < limit) {
          await new Promise((r) => setTimeout(r, 20));
          // Early notifications are judged below even before the count is reached.
        }
        const mine = arrivals.filter((a) => a.obs === obsId);
        if (mine.length < n) {
          ctx.note({ operation: 'notification', path, durationMs: Math.round(performance.now() - last), answer: 'none' });
          problems.push(`notification ${n} did not come within pmax ${pmax} s + ${lateToleranceMs} ms (waited ${Math.round(performance.now() - last)} ms)`);
          break;
        }
        const a = mine[n - 1];
        const interval = Math.round(a.at - last);
        ctx.note({ operation: 'notification', path, durationMs: interval, answer: showValue(a.value) });
        if (interval < pmin * 1000 - earlyToleranceMs) problems.push(`notification ${n} came ${interval} ms after the previous one, before pmin ${pmin} s`);
        else if (interval > limit) problems.push(`notification ${n} came ${interval} ms after the previous one, after pmax ${pmax} s`);
        last = a.at;
      }
      // Extra notifications squeezed in before pmin (a burst) show in the arrival times.
      const mine = arrivals.filter((a) => a.obs === obsId);
      for (let i = 1; i < mine.length; i++) {
        const gap = Math.round(mine[i].at - mine[i - 1].at);
        if (gap < pmin * 1000 - earlyToleranceMs && !problems.some((p) => p.includes('before pmin'))) {
          problems.push(`notifications ${gap} ms apart, less than pmin ${pmin} s`);
        }
      }
      const times = mine.map((a) => Math.round(a.at - t0));
      return problems.length ? fail(problems.join('; ')) : pass(`notifications at ${times.join(', ')} ms after Observe (pmin ${pmin} s, pmax ${pmax} s)`);
    } finally {
      ctx.server.off('notification', onNote as never);
      if (obsId) await ctx.server.cancelObservation(ctx.endpoint, obsId).catch(() => undefined);
      await ctx.step('write-attributes', path, (o) => ctx.server.writeAttributes(ctx.endpoint, path, { pmin: null, pmax: null }, o), { request: 'pmin&pmax (remove)' })
        .catch(() => undefined);
    }
  },
};

// ------------------------------------------------------------------------------------------------ composite (1.1+)

function compositePrecondition(ctx: CaseContext): string | undefined {
  if (!versionAtLeast(ctx.registration, '1.1')) return `LwM2M ${ctx.registration.version}: composite operations are 1.1+`;
  if (serverInstance(ctx) === undefined) return 'no Server object instance registered';
  // Composite operations carry unrelated paths: only SenML JSON / SenML CBOR can (Core 1.1 6.3.8, 7.4).
  const ct = ctx.registration.ct;
  if (ct && ct.length > 0 && !ct.includes(ContentFormat.SENML_JSON) && !ct.includes(ContentFormat.SENML_CBOR)) {
    return 'the device announced neither SenML JSON nor SenML CBOR, the formats composite operations need';
  }
  return undefined;
}

const readComposite: TestCase = {
  id: 'FW-CO-001',
  title: 'Read-Composite',
  specRef: 'Core 1.1 6.3.8 Read-Composite; 7.4.4 / 7.4.5 SenML',
  description: 'Read-Composite of /3/0/16 and the Server instance\'s Lifetime: 2.05 with both values, of their types.',
  precondition: compositePrecondition,
  async run(ctx) {
    const paths = ['/3/0/16', `/1/${serverInstance(ctx)}/1`];
    try {
      const r = await ctx.step('read-composite', paths.join(','), (o) => ctx.server.readComposite(ctx.endpoint, paths, o), { answer: (x) => x.value });
      const problems: string[] = [];
      for (const p of paths) {
        const v = (r.value as Record<string, unknown>)[p];
        const lp = Lwm2mPath.parse(p);
        const def = ctx.registry.getResource(lp.objectId!, lp.resourceId!)!;
        if (v === undefined) problems.push(`${p} missing from the answer`);
        else {
          const tp = typeProblem(def.type, v);
          if (tp) problems.push(`${p}: wrong type: ${tp}`);
        }
      }
      return problems.length ? fail(problems.join('; ')) : pass(`both values in ${formatName(r.format)}`);
    } catch (err) {
      const code = codeOf(err);
      if (code === '4.05' || code === '5.01') return na(`the device does not support Read-Composite (${code})`);
      return fail(`Read-Composite: ${errorText(err)}`);
    }
  },
};

const writeComposite: TestCase = {
  id: 'FW-CO-002',
  title: 'Write-Composite, read back and restore',
  specRef: 'Core 1.1 6.3.9 Write-Composite',
  description: 'Write-Composite of a new Lifetime on the Server instance (2.04), read back, then the original written back.',
  precondition: compositePrecondition,
  async run(ctx) {
    const p = `/1/${serverInstance(ctx)}/1`;
    let original: unknown;
    try {
      original = (await ctx.step('read', p, (o) => ctx.server.read(ctx.endpoint, p, o), { answer: (x) => x.value })).value;
    } catch (err) {
      return fail(`${p}: ${errorText(err)}`);
    }
    if (typeof original !== 'number') return fail(`${p}: not an integer (${showValue(original)})`);
    const next = original + 1;
    try {
      await ctx.step('write-composite', p, (o) => ctx.server.writeComposite(ctx.endpoint, { [p]: next }, o), { request: { [p]: next } });
    } catch (err) {
      const code = codeOf(err);
      if (code === '4.05' || code === '5.01') return na(`the device does not support Write-Composite (${code})`);
      return fail(`Write-Composite ${p}=${next}: ${errorText(err)}, expected 2.04`);
    }
    let problem: string | undefined;
    try {
      const back = await ctx.step('read', p, (o) => ctx.server.read(ctx.endpoint, p, o), { answer: (x) => x.value });
      if (back.value !== next) problem = `wrote ${next}, read back ${showValue(back.value)}`;
    } catch (err) {
      problem = `read back: ${errorText(err)}`;
    }
    try {
      await ctx.step('write-composite', p, (o) => ctx.server.writeComposite(ctx.endpoint, { [p]: original }, o), { request: { [p]: original } });
    } catch (err) {
      problem = [problem, `restoring ${original}: ${errorText(err)}`].filter(Boolean).join('; ');
    }
    return problem ? fail(`${p}: ${problem}`) : pass(`${p} written to ${next} and restored to ${original}`);
  },
};

/**
 * The suite for a device: registration, reads in every announced format, writes, execute, create / delete, discover,
 * observation timing, composite operations, lifetime and queue mode; the destructive cases last.
 */
export function suiteFor(formats: readonly number[]): TestCase[] {
  const perFormat = formats.filter((f) => MULTI_FORMATS.includes(f as never) || SINGLE_FORMATS.includes(f as never)).map(readInFormat);
  return [
    initialRegistration,
    ...perFormat,
    readResources,
    writeReadBack,
    executeRefused,
    readAbsent,
    createDelete,
    discoverDevice,
    observeTiming,
    readComposite,
    writeComposite,
    registrationUpdate,
    queueMode,
    lifetime,
    reboot,
    factoryReset,
    deregistration,
  ];
}

/** Every case (the per-format read once per format we test), for listings and selections. */
export const ALL_CASES: readonly TestCase[] = suiteFor([...SINGLE_FORMATS, ...MULTI_FORMATS]);
