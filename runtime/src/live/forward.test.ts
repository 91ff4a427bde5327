/** What the executor's events become for live listeners, with and without anyone listening. */
import { describe, expect, it } from 'vitest';
import { EventFanout } from '../executor/events.ts';
import { DebugBuffer } from './debug-buffer.ts';
import { forwardRunEvents, type LiveTarget } from './forward.ts';

function target(rooms: Set<string>, withNobody: boolean) {
  const sent: Array<{ rooms: string[]; event: string; payload: unknown }> = [];
  const asked: string[] = [];
  const live: LiveTarget = {
    listening: (room) => {
      asked.push(room);
      return rooms.has(room);
    },
    ...(withNobody ? { nobody: () => rooms.size === 0 } : {}),
    emit: (to, event, payload) => sent.push({ rooms: to, event, payload }),
  };
  return { live, sent, asked };
}

const started = { flowId: 'f1', runId: 'r1', nodeId: 'n1', invocationId: 'r1.1', attempt: 1, input: { payload: { big: 'x'.repeat(50) } } };

describe('forwardRunEvents', () => {
  it('with nobody listening, no room is asked about and nothing is sent; once someone listens, events reach their rooms', () => {
    const events = new EventFanout();
    const rooms = new Set<string>();
    const { live, sent, asked } = target(rooms, true);
    forwardRunEvents({ events, debugLog: new DebugBuffer(20), previewChars: 20 }, live);
    events.nodeStarted(started);
    expect(asked).toEqual([]);
    expect(sent).toEqual([]);

    rooms.add('run:r1');
    events.nodeStarted(started);
    expect(asked).toEqual(['flow:f1', 'run:r1']);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ rooms: ['run:r1'], event: 'node:started', payload: { runId: 'r1', nodeId: 'n1', invocationId: 'r1.1' } });

    rooms.clear();
    events.nodeStarted(started);
    expect(sent).toHaveLength(1);
  });

  it('a target that cannot tell whether anyone listens is asked per room, as before', () => {
    const events = new EventFanout();
    const { live, sent, asked } = target(new Set(['flow:f1']), false);
    forwardRunEvents({ events, debugLog: new DebugBuffer(20), previewChars: 20 }, live);
    events.nodeStarted(started);
    expect(asked).toEqual(['flow:f1', 'run:r1']);
    expect(sent.map((s) => [s.rooms, s.event])).toEqual([[['flow:f1'], 'node:started']]);
  });
});
