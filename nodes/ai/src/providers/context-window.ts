/**
 * Fitting a chat into a model's context window before the call, by an explicit policy: the prompt (as the model
 * will see it, chat template and tool descriptions included) plus the answer budget must fit. 'fail' refuses with
 * the figures; 'truncate' cuts the middle out of the longest messages (never the system prompt) until it fits and
 * returns a note saying what was cut, for the run record. A model runtime that would otherwise drop the start of
 * the conversation on its own (llama.cpp's context shift) never gets the chance.
 */
import { ProviderError } from './errors.ts';
import type { ContextOverflowPolicy } from './types.ts';

/** Where a message's text sits in the history, so it can be shortened: read and replace it. */
export interface CuttableText {
  get(): string;
  set(text: string): void;
}

export interface WindowFit {
  /** The prompt's tokens after fitting. */
  promptTokens: number;
  /** Set when the prompt was cut: what was done, in words. */
  note?: string;
}

export interface FitOptions {
  /** Name shown in messages, e.g. 'local model SmolLM2-135M-Instruct.Q4_1.gguf'. */
  model: string;
  window: number;
  maxTokens: number;
  policy: ContextOverflowPolicy;
  /** Tokens of the whole prompt as it stands now (recomputed after each cut). */
  countPrompt(): number;
  /** The texts that may be cut, in the history's order; the system prompt is never among them. */
  texts: CuttableText[];
  tokenize(text: string): readonly unknown[];
  /** The text of the first `head` and last `tail` tokens of `text`. */
  keepEnds(text: string, head: number, tail: number): { head: string; tail: string };
}

export const CUT_MARKER = '\n[… cut to fit the context window …]\n';

/** Rounds of cutting before giving up (each round shortens the longest text to what the excess demands). */
const MAX_ROUNDS = 8;

export function fitContextWindow(options: FitOptions): WindowFit {
  const { model, window, maxTokens } = options;
  const room = window - maxTokens - 1; // llama.cpp keeps one token free
  if (room <= 0) {
    throw new ProviderError(`${model}: maxTokens ${maxTokens} leaves no room for a prompt in its ${window}-token context window: lower maxTokens`, { retryable: false });
  }
  const before = options.countPrompt();
  if (before <= room) return { promptTokens: before };
  const over = `the prompt (${before} tokens) plus the answer budget (maxTokens ${maxTokens}) exceeds the ${window}-token context window of ${model} by ${before - room} tokens`;
  if (options.policy !== 'truncate') {
    throw new ProviderError(`${over}: shorten the input or the context the task gets, lower maxTokens, or set the context overflow policy to "truncate"`, { retryable: false });
  }
  let now = before;
  for (let round = 0; round < MAX_ROUNDS && now > room; round++) {
    const sized = options.texts.map((t) => ({ t, tokens: options.tokenize(t.get()).length })).filter((s) => s.tokens > 0);
    const longest = sized.sort((a, b) => b.tokens - a.tokens)[0];
    if (!longest) break;
    const markerTokens = options.tokenize(CUT_MARKER).length;
    const keep = Math.max(0, longest.tokens - (now - room) - markerTokens - 2);
    const { head, tail } = options.keepEnds(longest.t.get(), Math.ceil(keep / 2), Math.floor(keep / 2));
    longest.t.set(keep > 0 ? `${head}${CUT_MARKER}${tail}` : CUT_MARKER.trim());
    now = options.countPrompt();
  }
  if (now > room) {
    throw new ProviderError(`${over}, and cutting the messages (policy "truncate") still leaves ${now} tokens: shorten the system prompt (role, goal, backstory) or the tools, or lower maxTokens`, {
      retryable: false,
    });
  }
  return { promptTokens: now, note: `prompt cut from ${before} to ${now} tokens to fit the ${window}-token context window with room for ${maxTokens} answer tokens (policy "truncate")` };
}
