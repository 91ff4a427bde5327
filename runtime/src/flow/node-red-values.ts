/**
 * The vocabulary of Node-RED node configs the importer normalises with: what its editor writes (booleans as strings,
 * '' for "not set", every typed-input type), and a small editor over one node's props that records, property by
 * property, what it translated, defaulted, dropped or kept without applying it.
 */

/** What happened to one property of an imported node. */
export type PropertyAction = 'translated' | 'defaulted' | 'dropped' | 'ignored';

export interface PropertyNote {
  /** The Node-RED node id (as in the export). */
  nodeId: string;
  /** The Node-RED node type. */
  type: string;
  /** The Flowcrew flow the node was imported into. */
  flowId?: string;
  /** JSON pointer into the node's props (Node-RED's property names), e.g. `/console`, `/props/1/vt`. */
  property: string;
  /**
   * translated: the value was rewritten into the one Flowcrew's node reads (same meaning);
   * defaulted: missing or empty, replaced by the default Node-RED itself applies;
   * dropped: removed, Flowcrew has no use for it (the reason says what, if anything, is lost);
   * ignored: kept in props, but Flowcrew's node does not apply it (the reason says how it behaves instead).
   */
  action: PropertyAction;
  from?: unknown;
  to?: unknown;
  reason: string;
}

/** Every typed-input type Node-RED's editor offers somewhere, and its runtime evaluates (evaluateNodeProperty). */
export const NODE_RED_VALUE_TYPES = ['str', 'num', 'bool', 'json', 'bin', 're', 'date', 'msg', 'flow', 'global', 'jsonata', 'env'] as const;

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** One node's props being normalised; every change goes through here so it is reported. */
export class PropsEditor {
  constructor(
    readonly props: Record<string, unknown>,
    private readonly report: (note: Omit<PropertyNote, 'nodeId' | 'type' | 'flowId'>) => void,
  ) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.props, key);
  }

  get(key: string): unknown {
    return this.props[key];
  }

  /** Rewrite a value (same meaning, the form Flowcrew's node reads). */
  translate(key: string, to: unknown, reason: string, at: Record<string, unknown> = this.props, pointer = `/${escapePointer(key)}`): void {
    const from = at[key];
    at[key] = to;
    this.report({ property: pointer, action: 'translated', from, to, reason });
  }

  /** Set a missing or empty value to Node-RED's own default for it. */
  default(key: string, to: unknown, reason: string, at: Record<string, unknown> = this.props, pointer = `/${escapePointer(key)}`): void {
    const from = at[key];
    at[key] = to;
    this.report({ property: pointer, action: 'defaulted', ...(from === undefined ? {} : { from }), to, reason });
  }

  drop(key: string, reason: string): void {
    if (!this.has(key)) return;
    const from = this.props[key];
    delete this.props[key];
    this.report({ property: `/${escapePointer(key)}`, action: 'dropped', from, reason });
  }

  /** Kept as it is, but not applied by Flowcrew's node. */
  ignore(key: string, reason: string, pointer = `/${escapePointer(key)}`): void {
    this.report({ property: pointer, action: 'ignored', from: this.props[key], reason });
  }

  /**
   * Node-RED booleans as its editor and older versions store them: "true"/"false" strings (any case), 1/0,
   * and '' or null for "not set" (which gets `fallback` when one is given, else is removed so the schema default applies).
   */
  bool(key: string, fallback?: boolean, at: Record<string, unknown> = this.props, pointer = `/${escapePointer(key)}`): void {
    if (!Object.prototype.hasOwnProperty.call(at, key)) return;
    const value = at[key];
    if (typeof value === 'boolean') return;
    if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
      this.translate(key, value.trim().toLowerCase() === 'true', 'a boolean stored as a string', at, pointer);
    } else if (value === 1 || value === 0) {
      this.translate(key, value === 1, 'a boolean stored as a number', at, pointer);
    } else if (value === '' || value === null || value === undefined) {
      if (fallback === undefined) {
        delete at[key];
        this.report({ property: pointer, action: 'defaulted', from: value, reason: 'empty: the node default applies' });
      } else this.default(key, fallback, 'empty: Node-RED reads it as ' + String(fallback), at, pointer);
    } else {
      // Anything else is truthy or falsy in Node-RED's runtime (`if (n.x)`).
      this.translate(key, Boolean(value), 'a value Node-RED reads as a boolean', at, pointer);
    }
  }

  /**
   * An enumerated value: '' / null / missing-but-required become `fallback` (Node-RED's default); values in `aliases`
   * are rewritten; anything else outside `allowed` is left for validation to report.
   */
  oneOf(key: string, allowed: readonly unknown[], fallback: unknown, aliases: Record<string, unknown> = {}, at: Record<string, unknown> = this.props, pointer = `/${escapePointer(key)}`): void {
    if (!Object.prototype.hasOwnProperty.call(at, key)) return;
    const value = at[key];
    if (allowed.includes(value)) return;
    const alias = typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ? aliases[String(value)] : undefined;
    if (alias !== undefined) this.translate(key, alias, `Node-RED reads ${JSON.stringify(value)} as ${JSON.stringify(alias)}`, at, pointer);
    else if (value === '' || value === null) this.default(key, fallback, `empty: Node-RED reads it as ${JSON.stringify(fallback)}`, at, pointer);
  }

  /** A number stored as a numeric string where Flowcrew's schema wants a number. */
  integer(key: string, at: Record<string, unknown> = this.props, pointer = `/${escapePointer(key)}`): void {
    const value = at[key];
    if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) this.translate(key, Number(value), 'a number stored as a string', at, pointer);
  }

  /** Remove a key whose value is only Node-RED's editor state or a setting Flowcrew does not have. */
  dropAll(keys: readonly string[], reason: string): void {
    for (const key of keys) this.drop(key, reason);
  }

  /** Each object of an array prop (rules, props), with a pointer to it. */
  *items(key: string): Generator<[Record<string, unknown>, string]> {
    const list = this.props[key];
    if (!Array.isArray(list)) return;
    for (const [i, item] of list.entries()) if (isPlainObject(item)) yield [item, `/${escapePointer(key)}/${i}`];
  }
}
