/**
 * The AI node pack: agents, crews, knowledge and retrieval on any model (OpenAI-compatible, Anthropic, or a local
 * GGUF model in-process), with node types and MCP servers as tools. Offline by default.
 */
import type { NodeDefinition } from '@flowcrew/sdk';
import { agentNode } from './nodes/agent-node.ts';
import { crewNode } from './nodes/crew-node.ts';
import { humanInputNode } from './nodes/human-input-node.ts';
import { knowledgeNode, retrieveNode } from './nodes/knowledge-nodes.ts';
import { mcpToolNode } from './nodes/mcp-tool-node.ts';

export const nodes: NodeDefinition[] = [agentNode, crewNode, knowledgeNode, retrieveNode, mcpToolNode, humanInputNode];
export default nodes;

export { importCrewAI } from './crew/crewai-import.ts';
export { AGENT_TEMPLATES } from './agents/templates.ts';
export { ScriptedProvider } from './providers/scripted.ts';
export type { ModelProvider, ChatRequest, ChatResult, ChatMessage, ToolSpec } from './providers/types.ts';
