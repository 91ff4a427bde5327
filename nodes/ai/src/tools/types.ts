/** What an agent can call: a name and JSON Schema the model sees, and how the call is carried out. */
import type { FlowMessage, InputContext } from '@flowcrew/sdk';
import type { ToolSpec } from '../providers/types.ts';

export interface ToolRunContext {
  /** The runtime's tool runner: each call becomes a recorded node invocation in the run. */
  callTool: InputContext['callTool'];
  signal: AbortSignal;
}

export interface AgentTool {
  spec: ToolSpec;
  /** Returns the text handed back to the model. Throws when the tool failed (the agent tells the model). */
  invoke(args: Record<string, unknown>, context: ToolRunContext): Promise<string>;
}

/** Tool results go back into the prompt: cap them so one large answer cannot swamp a model's context. */
export const MAX_TOOL_RESULT_CHARS = 8000;

export function toolResultText(messages: FlowMessage[]): string {
  const payloads = messages.map((m) => m.payload);
  const value = payloads.length === 1 ? payloads[0] : payloads;
  const text = typeof value === 'string' ? value : value === undefined ? '(no output)' : JSON.stringify(value);
  return text.length > MAX_TOOL_RESULT_CHARS ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}\n[truncated ${text.length - MAX_TOOL_RESULT_CHARS} characters]` : text;
}

/** Provider-safe tool name: letters, digits, _ and -, at most 64 characters, unique within `taken`. */
export function toolName(wanted: string, taken: Set<string>): string {
  const base = wanted.replace(/[^a-zA-Z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60) || 'tool';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}
