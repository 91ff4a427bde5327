import type { NodeDefinition } from "@flowcrew/sdk";
export const transformNodes: NodeDefinition[] = [];
