/**
 * Lenient reading of JSON written by a model. Small models wrap JSON in prose or code fences, or stop half-way;
 * we take the first complete JSON value we can find and otherwise say precisely what was wrong, so the caller
 * can hand the reason back to the model or fail the run with it. No guessing beyond that: a value we return
 * is always exactly what the model wrote.
 */
import type { ToolCallRequest } from './types.ts';

export type ModelJson = { ok: true; value: unknown } | { ok: false; error: string };

export function parseModelJson(text: string): ModelJson {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'the answer was empty' };
  const direct = tryParse(trimmed);
  if (direct.ok) return direct;
  const fenced = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(trimmed);
  if (fenced?.[1]) {
    const inFence = tryParse(fenced[1].trim());
    if (inFence.ok) return inFence;
  }
  const block = firstBalancedBlock(trimmed);
  if (block === 'unterminated') return { ok: false, error: 'the JSON was cut off before it ended (the model may have run out of tokens)' };
  if (block) {
    const inBlock = tryParse(block);
    if (inBlock.ok) return inBlock;
    return { ok: false, error: `invalid JSON: ${inBlock.error}` };
  }
  return { ok: false, error: `no JSON object or array found in the answer: ${JSON.stringify(trimmed.slice(0, 120))}` };
}

/** Tool arguments: a JSON object, or an empty object for an empty string (some servers send "" for no args). */
export function parseToolArguments(raw: unknown): { arguments: Record<string, unknown>; invalid?: string } {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return { arguments: raw as Record<string, unknown> };
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return { arguments: {} };
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  const parsed = parseModelJson(text);
  if (parsed.ok && parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value)) return { arguments: parsed.value as Record<string, unknown> };
  return { arguments: {}, invalid: text };
}

/** A tool call as a provider sent it; arguments that are not a JSON object are kept for the agent to report. */
export function toolCallRequest(id: string, name: string, rawArguments: unknown): ToolCallRequest {
  const parsed = parseToolArguments(rawArguments);
  return { id, name, arguments: parsed.arguments, ...(parsed.invalid === undefined ? {} : { invalidArguments: parsed.invalid }) };
}

function tryParse(text: string): ModelJson {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** The first {...} or [...] in the text with balanced brackets outside strings. */
function firstBalancedBlock(text: string): string | 'unterminated' | undefined {
  const start = text.search(/[{[]/);
  if (start < 0) return undefined;
  const stack: string[] = [];
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') stack.push('}');
    else if (ch === '[') stack.push(']');
    else if (ch === '}' || ch === ']') {
      if (stack.pop() !== ch) return text.slice(start, i + 1); // mismatched: let JSON.parse report it
      if (stack.length === 0) return text.slice(start, i + 1);
    }
  }
  return 'unterminated';
}
