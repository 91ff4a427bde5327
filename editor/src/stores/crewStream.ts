/**
 * What AI nodes stream while they run (the node:progress event; nodes/ai agents/agent.ts AgentProgress): per task
 * the agent, its streamed tokens, tool calls and notes, for the live panel. Not stored by the runtime: the run
 * detail has the answers afterwards; this is only the live view of each node's newest invocation.
 */
import { defineStore } from 'pinia';
import { reactive } from 'vue';
import type { NodeProgressEvent } from '../api/types';

/** Streamed text kept per task (the run detail has the full answer). */
const MAX_TEXT = 20_000;

export interface TaskStream {
  task: string;
  agent: string;
  state: 'running' | 'done';
  text: string;
  /** Tool calls, guardrails, retries, reviews, notes: one line each. */
  events: string[];
}

export interface NodeStream {
  runId: string;
  invocationId: string;
  plan?: string;
  tasks: TaskStream[];
}

type Progress = { type?: string; task?: string; agent?: string; text?: string; tool?: string; ok?: boolean; error?: string; rule?: string; passed?: boolean; attempt?: number; reason?: string; from?: string; to?: string; approved?: boolean; feedback?: string; problem?: string };

/** One line for the events that are not tokens. */
function describe(p: Progress): string | undefined {
  switch (p.type) {
    case 'tool-call': return `tool ${p.tool} called`;
    case 'tool-result': return `tool ${p.tool}: ${p.ok ? 'ok' : `failed${p.error ? ` (${p.error})` : ''}`}`;
    case 'retry': return `model call retried (attempt ${p.attempt}): ${p.reason}`;
    case 'guardrail': return `guardrail ${p.rule}: ${p.passed ? 'passed' : `refused: ${p.feedback}`}`;
    case 'answer-rejected': return `answer rejected: ${p.problem}`;
    case 'review': return `review: ${p.approved ? 'approved' : `changes asked: ${p.feedback}`}`;
    case 'delegation': return `delegated from ${p.from} to ${p.to}`;
    case 'note': return p.text;
    case 'agent-plan': return `plan: ${p.text}`;
    case 'rate-limited': return 'waited for the rate limit';
    default: return undefined;
  }
}

export const useCrewStreamStore = defineStore('crewStream', () => {
  /** By `${flowId}/${nodeId}`: the node's newest streaming invocation. */
  const byNode = reactive<Record<string, NodeStream>>({});

  function onProgress(e: NodeProgressEvent): void {
    const p = (e.data ?? {}) as Progress;
    if (typeof p.type !== 'string') return;
    const key = `${e.flowId}/${e.nodeId}`;
    let stream = byNode[key];
    if (!stream || stream.invocationId !== e.invocationId) {
      byNode[key] = { runId: e.runId, invocationId: e.invocationId, tasks: [] };
      stream = byNode[key]!;
    }
    if (p.type === 'crew-plan') return void (stream.plan = p.text);
    if (!p.task) return;
    let task = stream.tasks.find((t) => t.task === p.task);
    if (!task) {
      stream.tasks.push({ task: p.task, agent: p.agent ?? p.to ?? '', state: 'running', text: '', events: [] });
      task = stream.tasks[stream.tasks.length - 1]!;
    }
    if (p.type === 'token' && p.text) {
      task.text = (task.text + p.text).slice(-MAX_TEXT);
    } else if (p.type === 'task-start') {
      task.state = 'running';
      if (p.agent) task.agent = p.agent;
    } else if (p.type === 'task-end') {
      task.state = 'done';
    } else {
      const line = describe(p);
      if (line) task.events.push(line);
    }
  }

  function get(flowId: string | null | undefined, nodeId: string): NodeStream | undefined {
    return flowId ? byNode[`${flowId}/${nodeId}`] : undefined;
  }

  /** A run ended: nothing of it streams any more (a task cut off by a failure or cancel is not left "running"). */
  function runFinished(runId: string): void {
    for (const stream of Object.values(byNode)) if (stream.runId === runId) for (const t of stream.tasks) t.state = 'done';
  }

  return { byNode, onProgress, get, runFinished };
});
