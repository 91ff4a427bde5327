/** Public entry of @flowcrew/runtime, for embedding and tests. */
export { loadConfig, type RuntimeConfig } from './config.ts';
export { Runtime, createLogger } from './runtime.ts';
export { startServer, type RunningServer } from './server.ts';
export { validateFlow } from './flow/validate.ts';
export { NodeRegistry } from './registry/registry.ts';
export type { FlowDocument, FlowNode, FlowIssue } from './flow/types.ts';
