import { describe, expect, it } from 'vitest';
import { chunkText } from './chunking.ts';

describe('chunking', () => {
  it('keeps paragraphs whole when they fit, and packs small ones together', () => {
    const text = 'First paragraph.\n\nSecond paragraph.\n\nThird paragraph is here.';
    expect(chunkText(text, { size: 40, overlap: 0 }).map((c) => c.text)).toEqual(['First paragraph.\n\nSecond paragraph.', 'Third paragraph is here.']);
  });

  it('splits long text at sentence and word boundaries, never above the size', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
    const chunks = chunkText(text, { size: 100, overlap: 0 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.text.length).toBeLessThanOrEqual(100);
      expect(c.text.endsWith('dog.')).toBe(true);
    }
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  });

  it('repeats the end of one chunk at the start of the next', () => {
    const sentences = Array.from({ length: 6 }, (_, i) => `Sentence number ${i + 1} is here.`);
    const chunks = chunkText(sentences.join(' '), { size: 70, overlap: 30 });
    expect(chunks[1]!.text.startsWith(sentences[1]!)).toBe(true);
    expect(chunks[0]!.text).toContain(sentences[1]!);
  });

  it('cuts a word longer than the size, and ignores empty input', () => {
    expect(chunkText('x'.repeat(25), { size: 10, overlap: 0 }).map((c) => c.text.length)).toEqual([10, 10, 5]);
    expect(chunkText('  \n ', { size: 10, overlap: 0 })).toEqual([]);
  });
});
