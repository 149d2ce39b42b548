/**
 * Choosing a content format for a request to a device (the Content-Format of a Write, the Accept of a Read/Observe).
 *
 * What the specifications require of a client:
 * - LwM2M 1.0.x (OMA TS LightweightM2M 1.0.2 section 6.4 "Data Formats for Transferring Resource Information"):
 *   "The LwM2M Server MUST support all data formats. The LwM2M Client MUST support the TLV data format. In addition a
 *   LwM2M Client MAY choose to support other data formats [...] i.e., JSON, plain text and opaque." TLV is the only
 *   format every 1.0 device understands, for every kind of request.
 * - LwM2M 1.1.x (OMA TS Core 1.1 section 7.4): "The LwM2M Client MUST support plain text, opaque, and CoRE Link data
 *   formats and it SHOULD support at least one of SenML CBOR or SenML JSON data formats. In addition, a LwM2M Client
 *   MAY choose to support other data formats. LwM2M Clients supporting LwM2M TS 1.1 or newer SHOULD NOT use the legacy
 *   TLV or JSON formats." Plain text and opaque only carry single values (7.4.1, 7.4.2); CBOR (60) is optional.
 * - LwM2M 1.2.x (OMA TS Core 1.2 section 7.4): the same statement; LwM2M CBOR (11544, 7.4.6) is a new optional format.
 * - Register (Core 1.1 / 1.2 section 6.2.1): "If the LwM2M Client supports optional data formats, it MAY inform the
 *   LwM2M Server by including the content type in the root path link using the ct= link attribute", e.g.
 *   `</>;ct=110`. Formats listed there count as supported.
 * - Composite operations (Read-Composite, Observe-Composite, Write-Composite, Send; Core 1.1 sections 6.3.8, 6.4.7,
 *   6.5.x) carry several unrelated paths: only SenML JSON and SenML CBOR can.
 *
 * - A Read of a resource the model does not know (kind `unknown`) cannot tell a single from a multiple-instance
 *   resource; text/plain cannot carry the latter (Core 1.1 7.4.1), and some clients answer 5.00 rather than 4.06 to
 *   it. So structured formats come first; server/requests/read.ts also moves on after a 5.00 to that first guess.
 *
 * The order we try, per request kind (first = {@link chooseFormat}, then {@link fallbackFormats} after a 4.06 Not
 * Acceptable / 4.15 Unsupported Content-Format): first the formats the device must or says it supports (mandatory for
 * its version, plus its `ct=` list), then the ones the spec says it SHOULD support, then the other formats able to carry
 * the request, each group in our preference order (compact binary formats first; TLV before LwM2M JSON for 1.0).
 */
import { Lwm2mError } from '../errors';
import { ResourceType } from '../model/types';
import { ContentFormat as CF } from './formats';

export type Lwm2mVersion = '1.0' | '1.1' | '1.2';
/**
 * single: one resource or resource instance value; multi: an instance, an object or a multiple resource; composite:
 * several unrelated paths; unknown: a resource the model does not know (single or multiple-instance: a structured
 * format first, then the single-value ones).
 */
export type RequestKind = 'single' | 'multi' | 'composite' | 'unknown';

export interface FormatQuery {
  /** The device's LwM2M version from its registration (`lwm2m=1.1`); `1.0.2`, `1.1.1`... are accepted. */
  version: Lwm2mVersion | string;
  /** The `ct=` list of the registration's root link, when it had one. */
  ct?: readonly number[];
  kind: RequestKind;
  /** Type of the single resource (an Opaque resource prefers application/octet-stream). */
  resourceType?: ResourceType;
  /** Formats already refused by the device (4.06 / 4.15) or not wanted. */
  exclude?: readonly number[];
}

/** Reduces `1.0.2`, `1.1.1`, `1.2.2`... to 1.0 / 1.1 / 1.2 (later minor versions behave as 1.2; unparsable as 1.0). */
export function normalizeVersion(version: string): Lwm2mVersion {
  const m = /^(\d+)\.(\d+)/.exec(String(version).trim());
  if (m === null || Number(m[1]) < 1) return '1.0';
  if (Number(m[1]) > 1) return '1.2';
  const minor = Number(m[2]);
  return minor === 0 ? '1.0' : minor === 1 ? '1.1' : '1.2';
}

/** The formats a client of this version MUST understand (Core 1.0.2 6.4, Core 1.1 / 1.2 7.4). */
export function mandatoryFormats(version: Lwm2mVersion | string): readonly number[] {
  return normalizeVersion(version) === '1.0' ? [CF.TLV] : [CF.TEXT, CF.OPAQUE, CF.LINK];
}

/** The formats a client of this version SHOULD understand (Core 1.1 / 1.2 7.4: at least one of SenML CBOR / JSON). */
export function recommendedFormats(version: Lwm2mVersion | string): readonly number[] {
  return normalizeVersion(version) === '1.0' ? [] : [CF.SENML_CBOR, CF.SENML_JSON];
}

/** Every format able to carry a request of this kind to a device of this version, in preference order. */
export function formatsFor(kind: RequestKind, version: Lwm2mVersion | string, resourceType?: ResourceType): readonly number[] {
  const v = normalizeVersion(version);
  const opaque = resourceType === 'opaque';
  if (v === '1.0') {
    switch (kind) {
      // Text/opaque for single values are optional in 1.0.2 but widespread; TLV is the one every device has.
      case 'single': return opaque ? [CF.TLV, CF.OPAQUE, CF.LWM2M_JSON] : [CF.TLV, CF.TEXT, CF.LWM2M_JSON];
      case 'multi': return [CF.TLV, CF.LWM2M_JSON];
      case 'unknown': return [CF.TLV, CF.LWM2M_JSON, CF.TEXT];
      case 'composite': return [];
    }
  }
  const lwm2mCbor = v === '1.2' ? [CF.LWM2M_CBOR] : [];
  switch (kind) {
    case 'single':
      return [...(opaque ? [CF.OPAQUE, CF.TEXT] : [CF.TEXT]), CF.SENML_CBOR, CF.SENML_JSON, ...lwm2mCbor, CF.CBOR, CF.TLV, CF.LWM2M_JSON];
    case 'multi':
      return [...lwm2mCbor, CF.SENML_CBOR, CF.SENML_JSON, CF.TLV, CF.LWM2M_JSON];
    case 'unknown':
      return [...lwm2mCbor, CF.SENML_CBOR, CF.SENML_JSON, CF.TLV, CF.LWM2M_JSON, CF.TEXT, CF.CBOR];
    case 'composite':
      return [CF.SENML_CBOR, CF.SENML_JSON];
  }
  return [];
}

/** The registered number and its pre-registration twin (1.0 devices may only know 1542 / 1543). */
const TWINS: Record<number, number> = { [CF.TLV]: CF.OLD_TLV, [CF.OLD_TLV]: CF.TLV, [CF.LWM2M_JSON]: CF.OLD_JSON, [CF.OLD_JSON]: CF.LWM2M_JSON };

/** The ordered list of formats to try (the first is the choice); empty when none fits. */
export function fallbackFormats(q: FormatQuery): number[] {
  const ct = q.ct ?? [];
  const excluded = new Set<number>();
  for (const f of q.exclude ?? []) {
    excluded.add(f);
    if (TWINS[f] !== undefined) excluded.add(TWINS[f]);
  }
  // A device announcing only the old TLV/JSON number gets that number.
  const candidates = formatsFor(q.kind, q.version, q.resourceType).map((f) => {
    const twin = TWINS[f];
    return twin !== undefined && ct.includes(twin) && !ct.includes(f) ? twin : f;
  });
  const known = new Set<number>([...mandatoryFormats(q.version), ...ct]);
  const should = new Set<number>(recommendedFormats(q.version));
  const tiers: number[][] = [[], [], []];
  for (const f of candidates) {
    if (excluded.has(f)) continue;
    tiers[known.has(f) ? 0 : should.has(f) ? 1 : 2].push(f);
  }
  if (q.kind === 'unknown') {
    // The resource may have several instances, which no single-value format carries: structured formats first (even
    // ahead of the mandatory text/plain), each group in tier order, then the single-value formats.
    const all = [...tiers[0], ...tiers[1], ...tiers[2]];
    return [...all.filter((f) => !SINGLE_VALUE.has(f)), ...all.filter((f) => SINGLE_VALUE.has(f))];
  }
  return [...tiers[0], ...tiers[1], ...tiers[2]];
}

/** Formats that carry one value only (Core 1.1 7.4.1 text, 7.4.2 opaque, 7.4.3 CBOR). */
const SINGLE_VALUE = new Set<number>([CF.TEXT, CF.OPAQUE, CF.CBOR]);

/**
 * The format to use first. Throws an Lwm2mError with code `NO_FORMAT` when no format can carry the request (a
 * composite request to a 1.0 device, or every candidate excluded).
 */
export function chooseFormat(q: FormatQuery): number {
  const list = fallbackFormats(q);
  if (list.length === 0) {
    throw new Lwm2mError('NO_FORMAT', `no content format can carry a ${q.kind} request to an LwM2M ${normalizeVersion(q.version)} device`
      + (q.exclude?.length ? ` (excluded: ${q.exclude.join(', ')})` : ''));
  }
  return list[0];
}
