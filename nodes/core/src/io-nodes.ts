import type { NodeDefinition } from "@flowcrew/sdk";
export const ioNodes: NodeDefinition[] = [];
