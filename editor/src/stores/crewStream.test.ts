import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useCrewStreamStore } from './crewStream';

const event = (data: unknown, invocationId = 'i1') => ({ flowId: 'f', runId: 'r', nodeId: 'crew', invocationId, data });

describe('crew streams', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('collects tokens and events per task, in the newest invocation', () => {
    const streams = useCrewStreamStore();
    streams.onProgress(event({ type: 'task-start', task: 'facts', agent: 'Researcher' }));
    streams.onProgress(event({ type: 'token', task: 'facts', agent: 'Researcher', text: 'Cats ' }));
    streams.onProgress(event({ type: 'token', task: 'facts', agent: 'Researcher', text: 'purr.' }));
    streams.onProgress(event({ type: 'tool-call', task: 'facts', agent: 'Researcher', tool: 'search', arguments: {} }));
    streams.onProgress(event({ type: 'task-end', task: 'facts', agent: 'Researcher' }));
    streams.onProgress(event({ type: 'task-start', task: 'post', agent: 'Writer' }));
    const stream = streams.get('f', 'crew')!;
    expect(stream.tasks.map((t) => [t.task, t.agent, t.state, t.text])).toEqual([['facts', 'Researcher', 'done', 'Cats purr.'], ['post', 'Writer', 'running', '']]);
    expect(stream.tasks[0]!.events).toEqual(['tool search called']);
    streams.runFinished('r');
    expect(stream.tasks[1]!.state).toBe('done');
    streams.onProgress(event({ type: 'task-start', task: 'facts', agent: 'Researcher' }, 'i2'));
    expect(streams.get('f', 'crew')!.tasks).toHaveLength(1);
  });
});
