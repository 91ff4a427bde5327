/** Where a batch write takes its rows from: an array in the message, or a JSON Lines blob read a batch at a time. */
import { inPages, isBlobRef, NodeInputError, readRows, type BlobServices } from '@flowcrew/sdk';

export function rowSource(value: unknown, blobs: BlobServices, batchSize: number, where: string): AsyncIterable<unknown[]> {
  if (Array.isArray(value)) return inPages(value, batchSize);
  if (isBlobRef(value)) return readRows(blobs, value, batchSize);
  throw new NodeInputError(`${where} must be an array of rows or a blob reference of JSON Lines rows, got ${value === null ? 'null' : typeof value}`);
}
