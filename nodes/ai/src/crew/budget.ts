/**
 * Cost and token budgets: one per run (what a single message may spend) and one per flow (what every run of the flow
 * may spend in a day, a month, or in all), checked before each model call, so a crew stops with the figures instead of
 * spending on. A call already made is paid for and counted; no call starts once a budget is spent.
 *
 * The flow's spend is kept in its flow context (persistent, shared by the flow's AI nodes, reset when the period
 * turns). One runtime process counts it exactly; runtimes that share a flow each read-modify-write it, so the total
 * may be short by the calls made at the same moment elsewhere.
 */
import type { ContextStore, JsonSchema, ModelUsage } from '@flowcrew/sdk';

export interface BudgetLimits {
  /** US dollars, from the prices on the model credential (the local model costs nothing). */
  maxCostUsd?: number;
  /** Prompt plus answer tokens. */
  maxTokens?: number;
}

export interface FlowBudgetLimits extends BudgetLimits {
  /** Window the flow's spend counts in: the UTC day, the UTC month, or since the budget was first used. */
  period?: 'day' | 'month' | 'total';
}

export interface Spend {
  costUsd: number;
  tokens: number;
  calls: number;
}

const limitsProps = {
  maxCostUsd: { type: 'number', exclusiveMinimum: 0, description: 'US dollars at most (needs prices on the AI model credential; the local model costs nothing).' },
  maxTokens: { type: 'integer', minimum: 1, description: 'Prompt and answer tokens at most.' },
} as const;

export const runBudgetSchema: JsonSchema = {
  type: 'object',
  title: 'Budget per run',
  description: 'What one run (one message) may spend on model calls; the crew stops before the next call once it is spent.',
  properties: limitsProps,
  additionalProperties: false,
};

export const flowBudgetSchema: JsonSchema = {
  type: 'object',
  title: 'Budget per flow',
  description: "What all runs of this flow's AI nodes may spend together in the period; a run stops before the next call once it is spent.",
  properties: { ...limitsProps, period: { enum: ['day', 'month', 'total'], default: 'month', description: 'UTC day, UTC month, or all time.' } },
  additionalProperties: false,
};

/** Flow context key holding the flow's spend; every AI node of the flow adds to it. */
export const FLOW_SPEND_KEY = 'flowcrew.ai.spend';

/** A budget was spent: not worth retrying, the next attempt would be refused too. */
export class BudgetExceededError extends Error {
  readonly retryable = false;
  constructor(
    message: string,
    readonly spend: Spend,
  ) {
    super(message);
    this.name = 'BudgetExceededError';
  }
}

export function hasLimits(limits: BudgetLimits | undefined): limits is BudgetLimits {
  return limits?.maxCostUsd !== undefined || limits?.maxTokens !== undefined;
}

function periodOf(period: FlowBudgetLimits['period'], now: Date): string {
  if (period === 'total') return 'total';
  const iso = now.toISOString();
  return period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7);
}

const usd = (value: number) => `$${value.toFixed(4)}`;

function overBy(limits: BudgetLimits, spend: Spend): string | undefined {
  if (limits.maxCostUsd !== undefined && spend.costUsd >= limits.maxCostUsd) return `${usd(spend.costUsd)} spent of ${usd(limits.maxCostUsd)}`;
  if (limits.maxTokens !== undefined && spend.tokens >= limits.maxTokens) return `${spend.tokens} tokens used of ${limits.maxTokens}`;
  return undefined;
}

/** The flow's spend in its flow context, for the current period. */
export class FlowSpend {
  constructor(
    private readonly store: ContextStore,
    readonly limits: FlowBudgetLimits,
    private readonly now: () => Date = () => new Date(),
  ) {}

  read(): Spend {
    const stored = this.store.get(FLOW_SPEND_KEY) as (Spend & { period?: string }) | undefined;
    const period = periodOf(this.limits.period ?? 'month', this.now());
    if (!stored || stored.period !== period) return { costUsd: 0, tokens: 0, calls: 0 };
    return { costUsd: Number(stored.costUsd) || 0, tokens: Number(stored.tokens) || 0, calls: Number(stored.calls) || 0 };
  }

  add(costUsd: number, tokens: number): void {
    const spend = this.read();
    this.store.set(FLOW_SPEND_KEY, {
      period: periodOf(this.limits.period ?? 'month', this.now()),
      costUsd: round(spend.costUsd + costUsd),
      tokens: spend.tokens + tokens,
      calls: spend.calls + 1,
    });
  }
}

const round = (value: number) => Math.round(value * 1e9) / 1e9;

/** One run's budget (and the flow's, when set): `check` before each model call, `record` after it. */
export class RunBudget {
  readonly spend: Spend = { costUsd: 0, tokens: 0, calls: 0 };

  constructor(
    private readonly run: BudgetLimits | undefined,
    private readonly flow?: FlowSpend,
  ) {}

  /** Throws BudgetExceededError when the run's or the flow's budget is spent; `next` says what would have run. */
  check(next: string): void {
    const runOver = this.run && overBy(this.run, this.spend);
    if (runOver) {
      throw new BudgetExceededError(`Stopped before ${next}: this run's budget is spent (${runOver}, in ${this.spend.calls} model calls)`, { ...this.spend });
    }
    if (!this.flow) return;
    const flowSpend = this.flow.read();
    const flowOver = overBy(this.flow.limits, flowSpend);
    if (flowOver) {
      const window = this.flow.limits.period === 'total' ? 'in all' : `this ${this.flow.limits.period === 'day' ? 'UTC day' : 'UTC month'}`;
      throw new BudgetExceededError(`Stopped before ${next}: the flow's budget is spent ${window} (${flowOver}, in ${flowSpend.calls} model calls)`, flowSpend);
    }
  }

  record(usage: ModelUsage): void {
    const tokens = (usage.promptTokens ?? 0) + (usage.completionTokens ?? 0);
    const cost = usage.costUsd ?? 0;
    this.spend.costUsd = round(this.spend.costUsd + cost);
    this.spend.tokens += tokens;
    this.spend.calls++;
    this.flow?.add(cost, tokens);
  }
}
