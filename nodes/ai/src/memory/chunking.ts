/**
 * Split a document into overlapping chunks for embedding, breaking at the largest natural boundary that fits:
 * paragraphs, then lines, then sentences, then words, and only as a last resort inside a word.
 */

export interface ChunkOptions {
  /** Max characters per chunk. */
  size: number;
  /** Characters of the previous chunk repeated at the start of the next, so a fact cut at a boundary survives. */
  overlap: number;
}

export interface Chunk {
  index: number;
  text: string;
}

const BOUNDARIES: RegExp[] = [/(?<=\n\s*\n)/, /(?<=\n)/, /(?<=[.!?…。]\s)/, /(?<=\s)/];

export function chunkText(text: string, options: ChunkOptions): Chunk[] {
  const size = Math.max(1, Math.floor(options.size));
  const overlap = Math.max(0, Math.min(Math.floor(options.overlap), Math.floor(size / 2)));
  const normalised = text.replace(/\r\n?/g, '\n').trim();
  if (!normalised) return [];
  const pieces = split(normalised, size, 0);

  const chunks: string[] = [];
  let current: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (length + piece.length > size && current.length) {
      chunks.push(current.join(''));
      // Carry whole trailing pieces worth at most `overlap` characters into the next chunk.
      const carried: string[] = [];
      let carriedLength = 0;
      for (let i = current.length - 1; i >= 0; i--) {
        const p = current[i]!;
        if (carriedLength + p.length > overlap || carriedLength + p.length + piece.length > size) break;
        carried.unshift(p);
        carriedLength += p.length;
      }
      current = carried;
      length = carriedLength;
    }
    current.push(piece);
    length += piece.length;
  }
  if (current.length) chunks.push(current.join(''));
  return chunks.map((c) => c.trim()).filter(Boolean).map((c, index) => ({ index, text: c }));
}

/** Pieces no longer than `size`, in order, that concatenate back to `text`. */
function split(text: string, size: number, level: number): string[] {
  if (text.length <= size) return [text];
  const boundary = BOUNDARIES[level];
  if (!boundary) {
    const hard: string[] = [];
    for (let i = 0; i < text.length; i += size) hard.push(text.slice(i, i + size));
    return hard;
  }
  const parts = text.split(boundary).filter((p) => p.length > 0);
  if (parts.length <= 1) return split(text, size, level + 1);
  return parts.flatMap((p) => split(p, size, level + 1));
}
