/** Limits shared by the crew's structured answers (manager, guardrails, planner). */

/**
 * Bounded strings keep a small model's structured answers from running on until the token limit: with a grammar
 * (local model) the string must close by then, so the JSON completes within the manager's token budget.
 */
export const MAX_NOTE_CHARS = 300;
/**
 * Token budget the manager needs for a structured answer with one MAX_NOTE_CHARS note. A small model does not write
 * 4 characters per token: SmolLM2's notes run near 2, and JSON punctuation and an agent key come on top, so 256
 * cut its answers off (three rejected attempts, a failed crew). 512 holds a full note at 1 character per token.
 */
export const MANAGER_MIN_TOKENS = 512;
/** CrewAI's default number of redos after a failed guardrail. */
export const DEFAULT_GUARDRAIL_RETRIES = 3;
