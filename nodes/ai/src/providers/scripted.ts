/**
 * A provider that answers from a script instead of a model: deterministic multi-step crews in tests, and a
 * way for pack authors to test flows that contain agents. Embeddings are feature-hashed bags of words, so
 * texts sharing words are close, which is enough to test retrieval end to end.
 */
import { createHash } from 'node:crypto';
import type { ChatRequest, ChatResult, ModelProvider, TokenUsage, ToolCallRequest } from './types.ts';

export type ScriptedReply =
  | string
  | { content?: string; toolCalls?: Array<Omit<ToolCallRequest, 'id'> & { id?: string }>; finishReason?: ChatResult['finishReason']; notes?: string[] };
export type Script = ScriptedReply[] | ((request: ChatRequest, callIndex: number) => ScriptedReply | Promise<ScriptedReply>);

export class ScriptedProvider implements ModelProvider {
  readonly kind = 'scripted';
  readonly requests: ChatRequest[] = [];

  constructor(
    private readonly script: Script,
    readonly model = 'scripted',
    private readonly dimensions = 64,
  ) {}

  async chat(request: ChatRequest): Promise<ChatResult> {
    const index = this.requests.length;
    this.requests.push({ ...request, messages: [...request.messages] });
    const reply = typeof this.script === 'function' ? await this.script(request, index) : this.script[index];
    if (reply === undefined) throw new Error(`scripted provider: no reply scripted for call ${index + 1}`);
    const r = typeof reply === 'string' ? { content: reply } : reply;
    const content = r.content ?? '';
    if (content) request.onText?.(content);
    const toolCalls = (r.toolCalls ?? []).map((c, i) => ({ ...c, id: c.id ?? `call_${index}_${i}` }));
    const prompt = request.messages.map((m) => m.content).join(' ');
    return {
      content,
      toolCalls,
      usage: { promptTokens: words(prompt).length, completionTokens: words(content).length },
      model: this.model,
      finishReason: r.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop'),
      ...(r.notes ? { notes: r.notes } : {}),
    };
  }

  async embed(texts: string[], _signal?: AbortSignal, onUsage?: (usage: TokenUsage) => void): Promise<number[][]> {
    // A word is a token here, as in its chat answers.
    onUsage?.({ promptTokens: texts.reduce((n, text) => n + words(text).length, 0), completionTokens: 0 });
    return texts.map((text) => {
      const vector = new Array<number>(this.dimensions).fill(0);
      for (const word of words(text)) {
        const hash = createHash('sha1').update(word).digest();
        vector[hash.readUInt32BE(0) % this.dimensions]! += 1;
      }
      return vector;
    });
  }
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}
