/**
 * CrewAI-style {placeholder} interpolation from the input message, with CrewAI's pattern: a name of letters,
 * digits, _ and - ({topic}, {company-name}). Only such forms are placeholders, so JSON examples and code in a task
 * description pass through untouched. A placeholder with no input is an
 * error naming it, as in CrewAI, rather than a prompt with a hole in it.
 */
import { NodeInputError, type FlowMessage } from '@flowcrew/sdk';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_-]*)\}/g;

/** The inputs a message offers: its payload's fields when the payload is an object, else {input: payload}; plus topic. */
export function inputsFromMessage(msg: FlowMessage): Record<string, unknown> {
  const payload = msg.payload;
  const inputs: Record<string, unknown> = payload && typeof payload === 'object' && !Array.isArray(payload) ? { ...(payload as Record<string, unknown>) } : {};
  if (!(payload && typeof payload === 'object' && !Array.isArray(payload)) && payload !== undefined) inputs.input = payload;
  if (msg.topic !== undefined && inputs.topic === undefined) inputs.topic = msg.topic;
  return inputs;
}

export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

export function interpolate(text: string, inputs: Record<string, unknown>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (!(name in inputs)) return whole;
    const value = inputs[name];
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** Check that every placeholder in `texts` has an input; throws one error listing all that are missing. */
export function requireInputs(texts: string[], inputs: Record<string, unknown>): void {
  const missing = [...new Set(texts.flatMap(placeholdersIn))].filter((name) => !(name in inputs));
  if (missing.length) {
    const offered = Object.keys(inputs);
    throw new NodeInputError(
      `missing input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `{${m}}`).join(', ')}: send them as fields of msg.payload` +
        ` (the message offers ${offered.length ? offered.join(', ') : 'no fields'})`,
    );
  }
}
