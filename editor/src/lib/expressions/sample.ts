/** The message expression previews run against, provided by the property panel to every field of the node's form. */
import type { InjectionKey, Ref } from 'vue';

export interface ExpressionSample {
  /** The node's last real input (from the run history), or a message the user typed; undefined: none yet. */
  message: Ref<unknown>;
  /** Where it came from, shown above the preview ("last input, run 1a2b3c4d at 10:42:07"). */
  source: Ref<string>;
  /** Use a typed message instead (kept while the node stays selected; never saved). */
  setMessage(message: unknown): void;
}

export const EXPRESSION_SAMPLE: InjectionKey<ExpressionSample> = Symbol('expression-sample');
