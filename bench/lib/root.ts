import * as fs from 'fs';
import * as path from 'path';

/** The project folder: the nearest package.json above (bench/ from .ts, dist/bench/ once built). */
export function projectRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + from);
    dir = up;
  }
}
