/**
 * Object URNs (OMA TS Core 1.1 §7.1 and the OMNA LwM2M registry): `urn:oma:lwm2m:{oma|ext|x}:<id>[:<version>]`.
 * The namespace follows the registry's id ranges: 0-1023 OMA, 2048-10240 other standards bodies (`ext`, e.g. IPSO),
 * 10241 and above vendors (`x`). The version is appended for object versions other than 1.0.
 */
export function objectUrn(id: number, version = '1.0'): string {
  const ns = id < 1024 ? 'oma' : id >= 2048 && id <= 10240 ? 'ext' : 'x';
  return `urn:oma:lwm2m:${ns}:${id}${version === '1.0' ? '' : ':' + version}`;
}
