/**
 * Evaluation scores over the API (flowcrew eval stores them: cli/eval-store.ts): the evaluations of a flow, per
 * version and dataset, and a comparison of two versions case by case, so a change to a crew's prompts or model
 * is judged on the same dataset before it is promoted. Reading them takes run:read in the flow's project (the
 * cases name the runs they scored).
 */
import { ProblemError, notFound } from '../errors.ts';
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { authorize } from '../services/access.ts';
import { EvalStore, type EvalRecord } from '../cli/eval-store.ts';

export interface EvalFilter {
  dataset?: string;
  version?: number;
}

/** One version's side of a comparison: its latest evaluation on the dataset. */
export interface EvalSide {
  version: number;
  evaluationId: string;
  at: string;
  score: number;
}

export interface CaseComparison {
  name: string;
  base: number | null;
  head: number | null;
  change: 'improved' | 'regressed' | 'same' | 'added' | 'removed';
  /** Checks the case failed in the head version. */
  failedChecks: string[];
}

export interface EvalComparison {
  flowId: string;
  dataset: string;
  base: EvalSide;
  head: EvalSide;
  delta: number;
  cases: CaseComparison[];
}

export class EvalService {
  constructor(private readonly runtime: Runtime) {}

  /** Evaluations of a flow, newest first. */
  async list(actor: Actor, flowId: string, filter: EvalFilter = {}): Promise<EvalRecord[]> {
    const all = await this.history(actor, flowId);
    return all.filter((r) => (filter.dataset === undefined || r.dataset === filter.dataset) && (filter.version === undefined || r.flowVersion === filter.version)).reverse();
  }

  /**
   * Two versions of a flow on one dataset, each by its latest evaluation: `head` defaults to the newest evaluated
   * version, `base` to the one evaluated before it. With one dataset only, it need not be named.
   */
  async compare(actor: Actor, flowId: string, options: { dataset?: string; base?: number; head?: number }): Promise<EvalComparison> {
    const all = await this.history(actor, flowId);
    const datasets = [...new Set(all.map((r) => r.dataset))];
    const dataset = options.dataset ?? (datasets.length === 1 ? datasets[0] : undefined);
    if (dataset === undefined) {
      if (datasets.length === 0) throw notFound(`an evaluation of flow "${flowId}"`);
      throw new ProblemError(422, 'Name the dataset', `flow "${flowId}" was evaluated on several datasets (${datasets.join(', ')}): pass ?dataset=`);
    }
    // The latest evaluation per version (history is oldest first).
    const latest = new Map<number, EvalRecord>();
    for (const r of all) if (r.dataset === dataset) latest.set(r.flowVersion, r);
    const versions = [...latest.keys()].sort((a, b) => a - b);
    if (versions.length === 0) throw notFound(`an evaluation of flow "${flowId}" on dataset "${dataset}"`);
    const head = options.head ?? versions.at(-1)!;
    const base = options.base ?? versions.filter((v) => v < head).at(-1);
    const missing = [head, base].filter((v) => v !== undefined && !latest.has(v));
    if (missing.length) throw notFound(`an evaluation of flow "${flowId}" version ${missing.join(' or ')} on dataset "${dataset}" (evaluated versions: ${versions.join(', ')})`);
    if (base === undefined) throw new ProblemError(422, 'Nothing to compare', `only version ${head} of flow "${flowId}" was evaluated on dataset "${dataset}": evaluate another version, or pass ?base=`);
    const [b, h] = [latest.get(base)!, latest.get(head)!];
    return { flowId, dataset, base: side(b), head: side(h), delta: round(h.score - b.score), cases: compareCases(b, h) };
  }

  private async history(actor: Actor, flowId: string): Promise<EvalRecord[]> {
    const stored = await this.runtime.storage.getFlow(flowId);
    if (!stored) throw notFound(`flow "${flowId}"`);
    authorize(actor, 'run:read', stored.projectId, 'flow:read', `flow "${flowId}"`);
    return EvalStore.of(this.runtime.storage).history(flowId);
  }
}

const side = (r: EvalRecord): EvalSide => ({ version: r.flowVersion, evaluationId: r.id!, at: r.at, score: r.score });
const round = (n: number) => Math.round(n * 1000) / 1000;

function compareCases(base: EvalRecord, head: EvalRecord): CaseComparison[] {
  const before = new Map(base.cases.map((c) => [c.name, c]));
  const after = new Map(head.cases.map((c) => [c.name, c]));
  const names = [...after.keys(), ...[...before.keys()].filter((n) => !after.has(n))];
  return names.map((name) => {
    const b = before.get(name);
    const h = after.get(name);
    const change: CaseComparison['change'] = !b ? 'added' : !h ? 'removed' : h.score > b.score ? 'improved' : h.score < b.score ? 'regressed' : 'same';
    return { name, base: b?.score ?? null, head: h?.score ?? null, change, failedChecks: h ? h.checks.filter((c) => !c.passed).map((c) => c.name) : [] };
  });
}
