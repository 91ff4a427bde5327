/** Output port counts, computed the way the runtime's registry does, so the canvas draws the ports the runtime will wire. */
import type { NodeTypeInfo } from '../api/types';

export function outputCount(type: Pick<NodeTypeInfo, 'outputs'> | undefined, props: Record<string, unknown> | undefined): number {
  if (!type) return 0;
  const outputs = type.outputs;
  if (typeof outputs === 'number') return outputs;
  const value = props?.[outputs.prop];
  const count = (Array.isArray(value) ? value.length : typeof value === 'number' ? value : Number(value) || 0) + (outputs.extra ?? 0);
  return Math.max(count, outputs.min ?? 0);
}

/** Label of an output port: the type's label, or for prop-driven ports a short description of the rule behind it. */
export function outputLabel(type: NodeTypeInfo | undefined, props: Record<string, unknown> | undefined, port: number): string {
  const fixed = type?.outputLabels?.[port];
  if (fixed) return fixed;
  if (type && typeof type.outputs === 'object') {
    const entries = props?.[type.outputs.prop];
    if (Array.isArray(entries)) {
      const entry = entries[port] as Record<string, unknown> | undefined;
      if (entry && typeof entry === 'object') {
        const parts = [entry.t ?? entry.name ?? entry.label, entry.v].filter((p) => p !== undefined && p !== '');
        if (parts.length) return parts.map(String).join(' ').slice(0, 24);
      }
    }
  }
  return '';
}
