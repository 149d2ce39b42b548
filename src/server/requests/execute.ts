import { Lwm2mPath } from '../../model/path';
import { InvalidArgumentError } from '../errors';
import { describe, expectCode, OperationOptions, RequestContext, segments } from './context';

/**
 * Execute arguments, OMA TS Core 1.1 / 1.2 section 5.4.5 (ABNF):
 *   arglist = arg *( "," arg )
 *   arg     = DIGIT [ "=" "'" *CHAR "'" ]
 *   CHAR    = %x21 / %x23-26 / %x28-5B / %x5D-7E   (printable ASCII without space, '"', "'" and "\")
 * Given as the wire string (`0='abc',1`), as an object `{ 0: 'abc', 1: null }`, or as an array of
 * `{ id, value? }`.
 */
export type ExecuteArgs = string | Record<number, string | null | undefined> | Array<{ id: number; value?: string }>;

const MAX_ARGS_LENGTH = 8192;

function checkValue(what: string, id: number, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok = c === 0x21 || (c >= 0x23 && c <= 0x26) || (c >= 0x28 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
    if (!ok) throw new InvalidArgumentError(what, `execute argument ${id}: character ${JSON.stringify(value[i])} is not allowed (Core 5.4.5: printable ASCII without space, quotes and backslash)`);
  }
}

/** Validates and formats execute arguments into the payload text. */
export function formatExecuteArgs(what: string, args: ExecuteArgs | undefined): string {
  if (args === undefined || args === null) return '';
  let list: Array<{ id: number; value?: string }>;
  if (typeof args === 'string') {
    if (args.length > MAX_ARGS_LENGTH) throw new InvalidArgumentError(what, `execute arguments longer than ${MAX_ARGS_LENGTH} characters`);
    if (args === '') return '';
    list = [];
    // Parse the wire form to validate it.
    const re = /^(\d)(?:='([^']*)')?(?:,|$)/;
    let rest = args;
    while (rest.length > 0) {
      const m = re.exec(rest);
      if (!m) throw new InvalidArgumentError(what, `malformed execute arguments "${args.slice(0, 60)}" (expected e.g. 0='abc',1)`);
      list.push(m[2] === undefined ? { id: Number(m[1]) } : { id: Number(m[1]), value: m[2] });
      rest = rest.slice(m[0].length);
      if (rest.length === 0 && m[0].endsWith(',')) throw new InvalidArgumentError(what, 'execute arguments end with ","');
    }
  } else if (Array.isArray(args)) {
    list = args;
  } else if (typeof args === 'object') {
    list = Object.entries(args).map(([k, v]) => (v === null || v === undefined ? { id: Number(k) } : { id: Number(k), value: String(v) }));
  } else {
    throw new InvalidArgumentError(what, 'execute arguments must be a string, an object or an array');
  }
  const seen = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a.id) || a.id < 0 || a.id > 9) throw new InvalidArgumentError(what, `execute argument id ${String(a.id)} is not a digit 0-9`);
    if (seen.has(a.id)) throw new InvalidArgumentError(what, `execute argument ${a.id} given twice`);
    seen.add(a.id);
    if (a.value !== undefined) checkValue(what, a.id, String(a.value));
  }
  const out = list.map((a) => (a.value === undefined ? String(a.id) : `${a.id}='${a.value}'`)).join(',');
  if (out.length > MAX_ARGS_LENGTH) throw new InvalidArgumentError(what, `execute arguments longer than ${MAX_ARGS_LENGTH} characters`);
  return out;
}

export interface ExecuteResult {
  code: string;
}

/** Execute (Core 1.1 section 6.3, Device Management and Service Enablement interface): POST on a resource, arguments in the payload; 2.04 Changed. */
export async function execute(ctx: RequestContext, path: Lwm2mPath, args?: ExecuteArgs, opts: OperationOptions = {}): Promise<ExecuteResult> {
  const what = describe(ctx.registration, path);
  if (!path.isResource()) throw new InvalidArgumentError(what, 'Execute targets a resource (/O/I/R)');
  const payload = formatExecuteArgs(what, args);
  const res = await ctx.send(
    { method: 'POST', path: segments(path), payload: payload ? Buffer.from(payload, 'latin1') : undefined, timeoutMs: opts.timeoutMs },
    what,
  );
  expectCode(res, what, ['2.04']);
  return { code: res.code };
}
