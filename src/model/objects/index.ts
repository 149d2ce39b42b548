/** Built-in object definitions: OMA core objects 0-7 and common IPSO objects. */
import { ObjectDef } from '../types';
import { CORE_OBJECTS } from './core';
import { IPSO_OBJECTS } from './ipso';

export { CORE_OBJECTS } from './core';
export { IPSO_OBJECTS } from './ipso';

/** Every built-in definition (frozen; registries share them). */
export const BUILTIN_OBJECTS: readonly ObjectDef[] = Object.freeze([...CORE_OBJECTS, ...IPSO_OBJECTS]);
