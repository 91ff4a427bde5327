/**
 * The local model for real: SmolLM2-135M-Instruct from scripts/fetch-model, loaded with node-llama-cpp. Kept to a
 * few tokens per call so the suite stays fast on two cores.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { OutputSchema } from '../agents/structured-output.ts';
import { requireLocalModel, skipLocalModelTests } from '../testing/local-model.ts';
import { disposeLocalModels, LocalLlamaProvider } from './local-llama.ts';

/** A local model on two cores shared with other suites (load 15-25): minutes are not a hang. */
const SLOW = 180_000;

describe.skipIf(skipLocalModelTests)('local GGUF model (node-llama-cpp)', () => {
  afterAll(async () => {
    await disposeLocalModels();
  });

  it('generates a streamed answer and counts its tokens', async () => {
    const model = new LocalLlamaProvider({ modelPath: requireLocalModel() });
    const streamed: string[] = [];
    const result = await model.chat({ messages: [{ role: 'user', content: 'What is the capital of France?' }], maxTokens: 12, onText: (t) => streamed.push(t) });
    expect(result.content.length).toBeGreaterThan(0);
    expect(streamed.join('')).toBe(result.content);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeLessThanOrEqual(12);
    expect(result.model).toMatch(/\.gguf$/);
  }, SLOW);

  it('holds the model to a JSON Schema with a grammar, so the answer validates', async () => {
    const model = new LocalLlamaProvider({ modelPath: requireLocalModel() });
    const schema = { type: 'object', properties: { city: { type: 'string', maxLength: 20 }, country: { enum: ['France', 'Italy', 'Spain'] } }, required: ['city', 'country'] };
    const result = await model.chat({ messages: [{ role: 'user', content: 'Name the capital of France as JSON.' }], responseSchema: schema, maxTokens: 40 });
    expect(new OutputSchema(schema).check(result.content)).toMatchObject({ ok: true });
  }, SLOW);

  it('shares one loaded model between providers and serialises their calls', async () => {
    const path = requireLocalModel();
    const a = new LocalLlamaProvider({ modelPath: path });
    const b = new LocalLlamaProvider({ modelPath: path });
    const results = await Promise.all([
      a.chat({ messages: [{ role: 'user', content: 'Say yes.' }], maxTokens: 4 }),
      b.chat({ messages: [{ role: 'user', content: 'Say no.' }], maxTokens: 4 }),
    ]);
    for (const r of results) expect(r.usage.completionTokens).toBeGreaterThan(0);
  }, SLOW);

  it('runs calls side by side on a model opened with two sequences (FLOWCREW_LLAMA_SEQUENCES), one after the other with one', async () => {
    const path = requireLocalModel();
    /** Who streamed and who finished, in the order it happened. */
    const race = async (sequences: number) => {
      // A small window keeps the second copy cheap (each sequence holds a KV cache of the whole window).
      const model = new LocalLlamaProvider({ modelPath: path, sequences, contextSize: 256 });
      await model.contextWindow();
      const events: string[] = [];
      const call = (who: string, content: string) =>
        model.chat({ messages: [{ role: 'system', content: `You are ${who}.` }, { role: 'user', content }], maxTokens: 4, onText: () => events.push(`${who} text`) }).then((r) => {
          events.push(`${who} done`);
          return r;
        });
      const results = await Promise.all([call('A', 'Count from one to twenty.'), call('B', 'Name the days of the week.')]);
      for (const r of results) expect(r.usage.completionTokens).toBeGreaterThan(0);
      return events;
    };
    const serial = await race(1);
    expect(serial.indexOf('B text')).toBeGreaterThan(serial.indexOf('A done'));
    const side = await race(2);
    expect(side.indexOf('B text')).toBeGreaterThan(-1);
    expect(side.indexOf('B text')).toBeLessThan(side.indexOf('A done'));
  }, SLOW);

  it('embeds texts into vectors of the model size', async () => {
    const model = new LocalLlamaProvider({ modelPath: requireLocalModel() });
    const [first, second] = await model.embed(['the cat sat on the mat', 'stock markets fell today']);
    expect(first!.length).toBe(576);
    expect(second!.length).toBe(576);
    expect(first!.every(Number.isFinite)).toBe(true);
  }, SLOW);

  it('opens the context window the model was trained with (8,192 tokens for SmolLM2)', async () => {
    expect(await new LocalLlamaProvider({ modelPath: requireLocalModel() }).contextWindow()).toBe(8192);
  }, SLOW);

  it('counts the whole prompt whether or not the cache already holds it', async () => {
    const model = new LocalLlamaProvider({ modelPath: requireLocalModel() });
    const request = { messages: [{ role: 'system' as const, content: 'You are terse.' }, { role: 'user' as const, content: 'Name a colour.' }], maxTokens: 3 };
    const first = await model.chat(request);
    const again = await model.chat(request); // the same prefix is now in the KV cache
    expect(first.usage.promptTokens).toBeGreaterThan(10);
    expect(again.usage.promptTokens).toBe(first.usage.promptTokens);
  }, SLOW);

  it('checks the window before the call: refuses an overflow by default, cuts it with a recorded note under "truncate"', async () => {
    // A 256-token window keeps this cheap (the cut prompt is evaluated on one CPU thread); the check is the same at 8,192.
    const model = new LocalLlamaProvider({ modelPath: requireLocalModel(), contextSize: 256 });
    const long = Array.from({ length: 80 }, (_, i) => `item ${i} is fine.`).join(' ');
    const messages = [{ role: 'user' as const, content: `Summarise: ${long}` }];
    await expect(model.chat({ messages, maxTokens: 16 })).rejects.toThrow(
      /^the prompt \(\d+ tokens\) plus the answer budget \(maxTokens 16\) exceeds the 256-token context window of local model SmolLM2-135M-Instruct\.Q4_1\.gguf by \d+ tokens: .*set the context overflow policy to "truncate"$/,
    );
    const cut = await model.chat({ messages, maxTokens: 16, contextOverflow: 'truncate' });
    expect(cut.notes).toEqual([expect.stringMatching(/^prompt cut from \d+ to \d+ tokens to fit the 256-token context window with room for 16 answer tokens \(policy "truncate"\)$/)]);
    expect(cut.usage.promptTokens).toBeLessThanOrEqual(256 - 16 - 1);
    expect(cut.usage.completionTokens).toBeGreaterThan(0);
  }, SLOW);

  it('fails a missing model file with a clear message', async () => {
    const model = new LocalLlamaProvider({ modelPath: '/nonexistent/model.gguf' });
    await expect(model.chat({ messages: [{ role: 'user', content: 'x' }], maxTokens: 2 })).rejects.toThrow(/cannot load the local model \/nonexistent\/model\.gguf: .*It must be a GGUF model file/);
  }, SLOW);
});
