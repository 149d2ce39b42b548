/** The project folder: the nearest package.json of ours above (bench/ from .ts, dist/bench/ once built). */
export { projectRoot } from '../../scripts/node-red-runner';
