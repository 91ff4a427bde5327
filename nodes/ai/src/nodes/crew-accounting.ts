/**
 * The crew node's accounting, set up at deploy and applied per run: which model (and fallback model) each agent
 * runs on, and the run and flow budgets that stop a crew before a call it cannot afford.
 */
import type { InputContext, NodeInit } from '@flowcrew/sdk';
import type { AgentEnvironment } from '../agents/agent.ts';
import { meteredEmbeddings } from '../agents/metered-embeddings.ts';
import { FlowSpend, hasLimits, RunBudget, type BudgetLimits, type FlowBudgetLimits } from '../crew/budget.ts';
import { llmModelName, llmProvider } from '../crew/crewai-fields.ts';
import type { AgentSpec } from '../crew/spec.ts';
import { FallbackProvider } from '../providers/fallback.ts';
import type { ModelProvider } from '../providers/types.ts';
import type { ModelSelection } from './model-selection.ts';

export const LOCAL_FALLBACK = 'local';

/** The provider for an agent's model, wrapped with its fallback model when it names one. */
export function modelWithFallback(model: ModelSelection, primary: ModelProvider, fallbackModel: string | undefined, setting: string): ModelProvider {
  if (!fallbackModel) return primary;
  const fallback = fallbackModel === LOCAL_FALLBACK ? model.localModel(setting) : model.provider(fallbackModel, setting);
  return new FallbackProvider(primary, fallback);
}

/**
 * The model an agent asks for: its `model`, else the model name of its CrewAI `llm` when the node's credential is
 * of that provider. Otherwise the node's model runs it, and the log says why the llm was not used.
 */
export function agentModel(spec: AgentSpec, model: ModelSelection, log: NodeInit['log']): string | undefined {
  if (spec.model) return spec.model;
  if (!spec.llm) return undefined;
  const kind = model.provider().kind;
  if (kind === llmProvider(spec.llm)) return llmModelName(spec.llm);
  log.warn(`agent "${spec.key}": llm "${spec.llm}" is not used: this node runs on ${model.description}; attach an ${llmProvider(spec.llm)} AI model credential to use it`);
  return undefined;
}

/**
 * A cost budget needs a price for every model that may be called: a remote model without prices on its credential
 * would count as free and never stop the crew, so the deploy is refused instead (the local model costs nothing).
 */
export function checkPriced(providers: Array<{ name: string; provider: ModelProvider }>, budgets: Array<BudgetLimits | undefined>): void {
  if (!budgets.some((b) => b?.maxCostUsd !== undefined)) return;
  for (const { name, provider } of providers) {
    const models = provider instanceof FallbackProvider ? [provider, provider.fallback] : [provider];
    for (const m of models) {
      if (m.kind === 'local-gguf' || m.cost?.({ promptTokens: 1, completionTokens: 1 }) !== undefined) continue;
      throw new Error(
        `a cost budget (maxCostUsd) is set, but ${name} runs on ${m.kind} model ${m.model}, which has no prices: ` +
          'set inputCostPerMillion and outputCostPerMillion on its AI model credential, or budget in tokens (maxTokens)',
      );
    }
  }
}

/** The run's budget (and the flow's), or none when neither is set. */
export function runBudget(run: BudgetLimits | undefined, flow: FlowBudgetLimits | undefined, ctx: InputContext): RunBudget | undefined {
  if (!hasLimits(run) && !hasLimits(flow)) return undefined;
  return new RunBudget(hasLimits(run) ? run : undefined, hasLimits(flow) ? new FlowSpend(ctx.context.flow, flow) : undefined);
}

/**
 * A standalone embedding node's model (ai-knowledge, ai-retrieve, also when an agent calls it as a tool): each embed
 * call checked against the node's budgets first, its tokens (and cost) recorded on the invocation and the flow's spend.
 */
export function meteredForNode(provider: ModelProvider, ctx: InputContext, limits: { budget?: BudgetLimits; flowBudget?: FlowBudgetLimits }, what: string): ModelProvider {
  const budget = runBudget(limits.budget, limits.flowBudget, ctx);
  return meteredEmbeddings(
    provider,
    {
      beforeCall: budget ? (next) => budget.check(next) : undefined,
      recordUsage(usage) {
        budget?.record(usage);
        ctx.recordUsage(usage);
      },
    },
    what,
  );
}

/** The environment with the budget checked before each model call and every call counted against it. */
export function withBudget(env: AgentEnvironment, budget: RunBudget | undefined): AgentEnvironment {
  if (!budget) return env;
  return {
    ...env,
    beforeCall: (next) => budget.check(next),
    recordUsage(usage) {
      budget.record(usage);
      env.recordUsage(usage);
    },
  };
}
