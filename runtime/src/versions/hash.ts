/**
 * The content hash of a flow document: sha256 of its canonical JSON (keys sorted by safe-stable-stringify) without
 * the fields the runtime sets itself (`version`, `format`). Two saves with the same hash are the same flow, so the
 * second creates no version (storage compares it inside the UPDATE).
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import type { FlowDocument } from '../flow/types.ts';

const canonical = configure({ deterministic: true, circularValue: Error, bigint: false });

export function flowContentHash(flow: FlowDocument): string {
  const { version: _version, format: _format, ...content } = flow;
  const text = canonical(content);
  if (text === undefined) throw new Error(`Flow "${flow.id}" has no JSON form to hash.`);
  return createHash('sha256').update(text).digest('hex');
}
