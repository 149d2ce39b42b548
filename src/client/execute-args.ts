/**
 * Execute arguments (OMA TS Core 1.1 / 1.2 5.4.5 "Execute Operation", ABNF):
 *   arglist = arg *( "," arg )
 *   arg     = DIGIT [ "=" "'" *CHAR "'" ]
 *   DIGIT   = %x30-39
 *   CHAR    = %x21 / %x23-26 / %x28-5B / %x5D-7E   ; printable, without space, '"', "'" and "\"
 */
import { CoapResponseError } from '../errors';

export interface ExecuteArgument {
  /** The argument's digit, 0..9. */
  id: number;
  /** Its value, when given (`3='abc'`); undefined for a bare digit (`3`). */
  value?: string;
}

/** Longest argument list accepted (bytes): a few dozen digits with values; bounds work on hostile input. */
export const MAX_EXECUTE_PAYLOAD = 8192;

function bad(reason: string): CoapResponseError {
  return new CoapResponseError('4.00', 'Execute', `bad arguments: ${reason}`);
}

function isArgChar(c: number): boolean {
  return c === 0x21 || (c >= 0x23 && c <= 0x26) || (c >= 0x28 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/** Parses an Execute payload. An empty payload is no argument. Throws CoapResponseError 4.00 on a malformed list. */
export function parseExecuteArguments(payload: Buffer | string): ExecuteArgument[] {
  const s = typeof payload === 'string' ? payload : payload.toString('latin1');
  if (s.length === 0) return [];
  if (s.length > MAX_EXECUTE_PAYLOAD) throw bad(`longer than ${MAX_EXECUTE_PAYLOAD} bytes`);
  const out: ExecuteArgument[] = [];
  const seen = new Set<number>();
  let i = 0;
  for (;;) {
    const d = s.charCodeAt(i);
    if (!(d >= 0x30 && d <= 0x39)) throw bad(`expected a digit at offset ${i}`);
    const id = d - 0x30;
    if (seen.has(id)) throw bad(`argument ${id} given twice`);
    seen.add(id);
    i++;
    let value: string | undefined;
    if (s[i] === '=') {
      if (s[i + 1] !== "'") throw bad(`expected "'" at offset ${i + 1}`);
      let j = i + 2;
      while (j < s.length && s[j] !== "'") {
        if (!isArgChar(s.charCodeAt(j))) throw bad(`character 0x${s.charCodeAt(j).toString(16)} not allowed at offset ${j}`);
        j++;
      }
      if (j >= s.length) throw bad('unterminated value');
      value = s.slice(i + 2, j);
      i = j + 1;
    }
    out.push(value === undefined ? { id } : { id, value });
    if (i === s.length) return out;
    if (s[i] !== ',') throw bad(`expected "," at offset ${i}`);
    i++;
  }
}

/** Formats arguments back into the wire form (`0='a',1`). */
export function formatExecuteArguments(args: readonly ExecuteArgument[]): string {
  return args.map((a) => (a.value === undefined ? `${a.id}` : `${a.id}='${a.value}'`)).join(',');
}
