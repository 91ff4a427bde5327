/**
 * Tokens per second of the local model (the GGUF file scripts/ai-setup fetches, or $FLOWCREW_MODEL_PATH), run
 * in-process through the same provider the AI nodes use. Figures printed, never asserted.
 *
 * Usage: node --import tsx bench/ai-local-model.ts [--runs 5] [--tokens 128] [--threads N]
 */
import { availableParallelism } from 'node:os';
import { disposeLocalModels, LocalLlamaProvider } from '../nodes/ai/src/providers/local-llama.ts';
import { resolveModelPath } from '../nodes/ai/src/providers/model-path.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const runs = option('runs', 5);
const maxTokens = option('tokens', 128);
const threads = option('threads', Math.max(1, Math.floor(availableParallelism() / 2)));

const resolved = resolveModelPath(undefined);
if (!resolved.path) {
  console.error(`ai-local-model bench: ${resolved.problem}`);
  process.exit(1);
}
const model = new LocalLlamaProvider({ modelPath: resolved.path, threads });

const loadStart = performance.now();
await model.chat({ messages: [{ role: 'user', content: 'Hi' }], maxTokens: 1 });
console.log(`Local model ${model.model}: loaded and first token in ${(performance.now() - loadStart).toFixed(0)} ms (${threads} of ${availableParallelism()} threads)`);

const prompts = [
  'Explain in a few sentences why the sky is blue.',
  'List five uses of solar power for a small business.',
  'Describe how a bicycle gear system works.',
  'Write a short note about the history of the printing press.',
  'What should a team check before deploying a web service?',
];
const generation: number[] = [];
const promptEval: number[] = [];
for (let r = 0; r < runs; r++) {
  let firstAt = 0;
  const start = performance.now();
  const result = await model.chat({
    // A different prompt per run, so no run benefits from the previous run's cached prefix.
    messages: [{ role: 'system', content: `Run ${r}. You are a helpful assistant.` }, { role: 'user', content: prompts[r % prompts.length]! }],
    maxTokens,
    onText: () => {
      firstAt ||= performance.now();
    },
  });
  const end = performance.now();
  const ttft = (firstAt || end) - start;
  promptEval.push(result.usage.promptTokens / (ttft / 1000));
  // Tokens after the first, over the time after the first: pure generation speed.
  if (result.usage.completionTokens > 1) generation.push((result.usage.completionTokens - 1) / ((end - (firstAt || start)) / 1000));
  console.log(
    `  run ${r + 1}: ${result.usage.promptTokens} prompt tokens, ${result.usage.completionTokens} generated in ${(end - start).toFixed(0)} ms (first token after ${ttft.toFixed(0)} ms)`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`generation: ${median(generation).toFixed(1)} tokens/s (median of ${generation.length} runs); prompt evaluation: ${median(promptEval).toFixed(0)} tokens/s`);

const texts = Array.from({ length: 32 }, (_, k) => `Sentence number ${k} about databases, vectors and search.`);
const embedStart = performance.now();
await model.embed(texts);
console.log(`embeddings: ${(texts.length / ((performance.now() - embedStart) / 1000)).toFixed(0)} texts/s (${texts.length} short texts)`);
await disposeLocalModels();
