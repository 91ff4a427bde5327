/**
 * The /waits API as the editor uses it: questions runs wait on (human in the loop), answered by a signed-in person
 * or through a signed link (no account: the link is the permission).
 */
import { request } from '../../api/client';
import type { JsonSchema } from '../../api/types';

// The runtime's own view of a question (type-only import, as api/types.ts does): one definition, no drift.
export type { WaitView } from '../../../../runtime/src/waiting/service.ts';
import type { WaitView } from '../../../../runtime/src/waiting/service.ts';

const byId = (id: string) => `/waits/${encodeURIComponent(id)}`;
const byLink = (token: string) => `/waits/link/${encodeURIComponent(token)}`;

export const waitsApi = {
  list: () => request<WaitView[]>('GET', '/waits'),
  answer: (id: string, answer: unknown) => request<WaitView>('POST', `${byId(id)}/answer`, { answer }),
  link: (id: string) => request<{ url: string; token: string; expiresAt: number }>('POST', `${byId(id)}/link`),
  byLink: (token: string) => request<WaitView>('GET', byLink(token)),
  answerByLink: (token: string, answer: unknown) => request<WaitView>('POST', `${byLink(token)}/answer`, { answer }),
};

/** A starting value for the form: the schema's defaults, and `approved: true` for an approval. */
export function initialAnswer(schema: JsonSchema): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const [key, field] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    if (field.default !== undefined) value[key] = structuredClone(field.default);
    else if (field.type === 'boolean') value[key] = false;
  }
  return value;
}

/** "in 3 h", "2 min ago": for created and expiry times. */
export function relativeTime(at: number, now = Date.now()): string {
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  const text = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min` : abs < 86400 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86400)} d`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}
