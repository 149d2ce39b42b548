/** The LwM2M object model: paths, definitions, the registry, built-in objects and the DDF loader. */
export { Lwm2mPath, MAX_ID, MAX_INSTANCE_ID } from './path';
export type { PathLevel } from './path';
export type { ObjectDef, ResourceDef, ResourceType, Operations, ObjectRegistry } from './types';
export { ModelRegistry, compareVersions } from './registry';
export type { PathSuggestion, SuggestionOptions } from './registry';
export {
  parseDdf, loadDdfFile, loadDdfFileAsync, loadDdfFolder, loadDdfFolderAsync, NotObjectDefinitionError, MAX_DDF_BYTES,
} from './ddf';
export type { DdfFolderResult, DdfFolderOptions, DdfFileError, DdfSkippedFile } from './ddf';
export { objectUrn } from './urn';
export { BUILTIN_OBJECTS, CORE_OBJECTS, IPSO_OBJECTS } from './objects';
