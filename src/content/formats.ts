/**
 * CoAP Content-Format numbers used by LwM2M (OMA TS Transport 6.4 / IANA CoAP Content-Formats registry).
 */
export const ContentFormat = {
  TEXT: 0,
  LINK: 40,
  OPAQUE: 42,
  CBOR: 60,
  SENML_JSON: 110,
  SENML_CBOR: 112,
  TLV: 11542,
  LWM2M_JSON: 11543,
  LWM2M_CBOR: 11544,
  /** Pre-registration numbers some LwM2M 1.0 devices still use. Decoded as their registered twins. */
  OLD_TLV: 1542,
  OLD_JSON: 1543,
} as const;

export type ContentFormatNumber = (typeof ContentFormat)[keyof typeof ContentFormat] | number;

export const FORMAT_NAMES: Record<number, string> = {
  0: 'text/plain',
  40: 'application/link-format',
  42: 'application/octet-stream',
  60: 'application/cbor',
  110: 'application/senml+json',
  112: 'application/senml+cbor',
  11542: 'application/vnd.oma.lwm2m+tlv',
  11543: 'application/vnd.oma.lwm2m+json',
  11544: 'application/vnd.oma.lwm2m+cbor',
  1542: 'application/vnd.oma.lwm2m+tlv (old)',
  1543: 'application/vnd.oma.lwm2m+json (old)',
};

export function formatName(format: number): string {
  return FORMAT_NAMES[format] ?? `content-format ${format}`;
}
