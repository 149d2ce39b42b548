/** Locates test inputs from both the .ts sources (tsx) and the compiled dist/test tree: walk up to package.json. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'src'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
}

/** Our own DDF fixtures (kept in the source tree; the build does not copy them). */
export function fixture(...parts: string[]): string {
  return path.join(projectRoot(), 'test', 'model', 'fixtures', ...parts);
}

/** The OMA registry checkout next to the project (../shared/lwm2m-registry), or undefined when absent. */
export function registryDir(): string | undefined {
  const dir = path.join(projectRoot(), '..', 'shared', 'lwm2m-registry');
  return existsSync(dir) ? dir : undefined;
}
