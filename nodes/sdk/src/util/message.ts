/** Message helpers Node-RED's core nodes share (RED.util.cloneMessage, ensureString, msg.parts ids). */

/** Deep copy of a message or value (Buffers, Dates and RegExps included), like Node-RED's RED.util.cloneMessage. */
export function cloneMessage<T>(value: T): T {
  return cloneValue(value) as T;
}

function cloneValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof RegExp) return new RegExp(value.source, value.flags);
  if (Array.isArray(value)) return value.map(cloneValue);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = cloneValue(item);
  return copy;
}

/** A random 16 hex digit id, the shape Node-RED uses for msg.parts.id. */
export function generateId(): string {
  let id = '';
  for (let i = 0; i < 8; i++) id += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return id;
}

/** Node-RED's RED.util.ensureString. */
export function ensureString(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString();
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string') return value;
  return String(value);
}

export function hasOwn(target: unknown, key: string): boolean {
  return target !== null && typeof target === 'object' && Object.prototype.hasOwnProperty.call(target, key);
}
