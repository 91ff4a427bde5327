/** The context-window policy on its own, with a word tokenizer (one token per word) standing in for a model's. */
import { describe, expect, it } from 'vitest';
import { CUT_MARKER, fitContextWindow, type CuttableText, type FitOptions } from './context-window.ts';

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** A chat as texts: a system prompt (never cut) and the cuttable messages; the prompt counts every word. */
function chat(system: string, messages: string[]): { options: Omit<FitOptions, 'window' | 'maxTokens' | 'policy'>; texts: string[] } {
  const texts = [...messages];
  const cuttable: CuttableText[] = texts.map((_, i) => ({ get: () => texts[i]!, set: (t) => (texts[i] = t) }));
  return {
    texts,
    options: {
      model: 'model m',
      countPrompt: () => words(system).length + texts.reduce((n, t) => n + words(t).length, 0),
      texts: cuttable,
      tokenize: words,
      keepEnds: (text, head, tail) => {
        const w = words(text);
        return { head: w.slice(0, head).join(' '), tail: tail > 0 ? w.slice(-tail).join(' ') : '' };
      },
    },
  };
}

const numbered = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');

describe('fitting a chat into the context window', () => {
  it('lets a prompt that fits through untouched, with its size', () => {
    const { options, texts } = chat('you are x', ['hello there']);
    expect(fitContextWindow({ ...options, window: 100, maxTokens: 50, policy: 'fail' })).toEqual({ promptTokens: 5 });
    expect(texts).toEqual(['hello there']);
  });

  it('refuses by default, with the figures and what to do', () => {
    const { options } = chat('sys', [numbered('w', 80)]);
    expect(() => fitContextWindow({ ...options, window: 100, maxTokens: 30, policy: 'fail' })).toThrow(
      'the prompt (81 tokens) plus the answer budget (maxTokens 30) exceeds the 100-token context window of model m by 12 tokens: shorten the input or the context the task gets, lower maxTokens, or set the context overflow policy to "truncate"',
    );
  });

  it('with "truncate", cuts the middle of the longest message, keeps both ends, and says so', () => {
    const { options, texts } = chat('sys', ['short question', numbered('w', 80)]);
    const fit = fitContextWindow({ ...options, window: 100, maxTokens: 30, policy: 'truncate' });
    expect(fit.promptTokens).toBeLessThanOrEqual(69);
    expect(fit.note).toBe(`prompt cut from 83 to ${fit.promptTokens} tokens to fit the 100-token context window with room for 30 answer tokens (policy "truncate")`);
    expect(texts[0]).toBe('short question');
    expect(texts[1]!.startsWith('w0 w1 ')).toBe(true);
    expect(texts[1]!.endsWith(' w78 w79')).toBe(true);
    expect(texts[1]).toContain(CUT_MARKER);
  });

  it('refuses even with "truncate" when what may not be cut is too large, or maxTokens fills the window', () => {
    const { options } = chat(numbered('s', 90), ['a b c']);
    expect(() => fitContextWindow({ ...options, window: 100, maxTokens: 30, policy: 'truncate' })).toThrow(/and cutting the messages \(policy "truncate"\) still leaves \d+ tokens: shorten the system prompt/);
    expect(() => fitContextWindow({ ...chat('x', []).options, window: 100, maxTokens: 100, policy: 'truncate' })).toThrow('model m: maxTokens 100 leaves no room for a prompt in its 100-token context window: lower maxTokens');
  });
});
