import { LGraph, LGraphNode } from '@comfyorg/litegraph';
import { describe, expect, it } from 'vitest';
import { FlowGroupBox } from './group';

function node(graph: LGraph, id: string, x: number, y: number): LGraphNode {
  const n = new LGraphNode(id);
  n.id = id;
  n.size = [150, 40];
  graph.add(n);
  n.pos = [x, y];
  return n;
}

describe('group box', () => {
  it('moves only its members, not a node that merely lies inside its box', () => {
    const graph = new LGraph();
    const a = node(graph, 'a', 100, 100);
    const b = node(graph, 'b', 400, 100);
    const stranger = node(graph, 'stranger', 250, 110); // between the members: inside the fitted box
    const box = new FlowGroupBox('Group');
    graph.add(box);
    box.members = ['a', 'b', 'gone'];
    box.resizeTo([a, b], 24);
    box.recomputeInsideNodes(); // what litegraph does when a drag of the group's title starts
    box.move(50, 20);
    expect([a.pos[0], a.pos[1], b.pos[0], b.pos[1]]).toEqual([150, 120, 450, 120]);
    expect([stranger.pos[0], stranger.pos[1]]).toEqual([250, 110]);
  });
});
