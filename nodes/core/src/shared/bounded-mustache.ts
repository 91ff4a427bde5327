/**
 * Mustache rendering under the host limits, for every node that renders mustache (template, and any node that
 * templates its props): parsed templates are kept in a least-recently-used cache (mustache's own cache keeps every
 * distinct template forever, and `msg.template` makes them as many as the messages: 20,000 unique 2 KB templates
 * took 1.4 GB), and a rendering has a time limit and an output size limit (nested sections over the message's
 * arrays multiply: a few bytes of template can ask for billions of iterations).
 */
import Mustache from 'mustache';
import { LRUCache } from 'lru-cache';
import { EvaluationBudget, hostLimits, LimitExceededError, limitVariable, type HostLimits } from '@flowcrew/sdk/util';

export type Tokens = string[][];

/** Characters of template text the cache may hold (its parsed tokens take a few times that). */
const TEMPLATE_CACHE_CHARS = 32 * 1024 * 1024;

/** A mustache Writer with a bounded template cache, and a time and output limit per rendering. */
export class BoundedWriter extends Mustache.Writer {
  private rendering: { budget: EvaluationBudget; chars: number } | undefined;

  constructor(private readonly limits: HostLimits) {
    super();
    // mustache accepts any cache with get/set/clear.
    // Bounded in count and in template text: a message may carry a template as large as a message.
    (this as unknown as { templateCache: unknown }).templateCache = new LRUCache<string, Tokens>({
      max: limits.templateCacheEntries,
      maxSize: TEMPLATE_CACHE_CHARS,
      sizeCalculation: (_tokens, key) => Math.max(1, key.length),
    });
  }

  get cachedTemplates(): number {
    return ((this as unknown as { templateCache: LRUCache<string, Tokens> }).templateCache).size;
  }

  renderBounded(tokens: Tokens, template: string, view: Mustache.Context): string {
    this.rendering = { budget: new EvaluationBudget('The mustache template', 'templateTimeoutMs', this.limits), chars: 0 };
    try {
      return this.renderTokens(tokens, view, undefined, template);
    } finally {
      this.rendering = undefined;
    }
  }

  override renderTokens(tokens: Tokens, context: Mustache.Context, partials?: Mustache.PartialsOrLookupFn, originalTemplate?: string, config?: Mustache.RenderOptions): string {
    this.rendering?.budget.checkSync();
    return super.renderTokens(tokens, context, partials, originalTemplate, config);
  }

  override rawValue(token: string[]): string {
    return this.counted(super.rawValue(token));
  }

  override escapedValue(token: string[], context: Mustache.Context, config?: Mustache.RenderOptions): string {
    return this.counted(super.escapedValue(token, context, config));
  }

  override unescapedValue(token: string[], context: Mustache.Context): string {
    return this.counted(super.unescapedValue(token, context));
  }

  /** Every character of the output comes from one of these: their sum is the output's length. */
  private counted(value: string): string {
    const rendering = this.rendering;
    if (rendering && value != null) {
      rendering.chars += String(value).length;
      const max = this.limits.maxStringLength;
      if (rendering.chars > max) {
        throw new LimitExceededError(`The mustache template renders more than ${max} characters`, { name: 'maxStringLength', value: max, variable: limitVariable('maxStringLength') });
      }
    }
    return value;
  }
}

/** The process-wide writer: one bounded cache for every node that renders mustache. */
export const boundedMustache = new BoundedWriter(hostLimits);

/** How many parsed templates are kept (bounded by FLOWCREW_TEMPLATE_CACHE_ENTRIES). */
export function cachedTemplateCount(): number {
  return boundedMustache.cachedTemplates;
}

/**
 * Render `template` with `view` under the limits (parsed templates cached in the bounded cache): for nodes that
 * template their props with mustache (the trigger node's value, the http-request node's URL).
 */
export function renderMustache(template: string, view: unknown): string {
  const tokens = boundedMustache.parse(template) as Tokens;
  return boundedMustache.renderBounded(tokens, template, view instanceof Mustache.Context ? view : new Mustache.Context(view));
}
