/** Locates test inputs from both the .ts sources (tsx) and the compiled dist/test tree: walk up to package.json. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The project root (walking up to our package.json): from test/ under tsx and from dist/test/. */
import { projectRoot } from '../../scripts/node-red-runner';
export { projectRoot };

/** Our own DDF fixtures (kept in the source tree; the build does not copy them). */
export function fixture(...parts: string[]): string {
  return path.join(projectRoot(), 'test', 'model', 'fixtures', ...parts);
}

/** The OMA registry checkout next to the project (../shared/lwm2m-registry), or undefined when absent. */
export function registryDir(): string | undefined {
  const dir = path.join(projectRoot(), '..', 'shared', 'lwm2m-registry');
  return existsSync(dir) ? dir : undefined;
}
