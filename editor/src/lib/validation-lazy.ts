/**
 * lib/validation (ajv, and the JSONata and mustache parsers for expressions: the largest part of the editor's code)
 * is loaded apart from the first screen: its download and parsing overlap the sign-in check and the node-types
 * request instead of delaying the first paint. Node types count as loaded only once it is there (stores/nodeTypes).
 */
import { shallowRef } from 'vue';

type Validation = typeof import('./validation');

const module = shallowRef<Validation | null>(null);
let loading: Promise<Validation> | undefined;

export function loadValidation(): Promise<Validation> {
  loading ??= import('./validation').then((m) => (module.value = m));
  return loading;
}

/** The loaded module, or null before it is (reactive: computeds that read it run again once it arrives). */
export function validation(): Validation | null {
  return module.value;
}
