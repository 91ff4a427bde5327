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

describe('nested group boxes', () => {
  it('move the nested group (members and box) with the outer one, each node once; the nested box alone moves only its own', () => {
    const graph = new LGraph();
    const a = node(graph, 'a', 100, 100);
    const b = node(graph, 'b', 400, 100);
    const c = node(graph, 'c', 700, 100);
    const outer = new FlowGroupBox('Outer');
    const inner = new FlowGroupBox('Inner');
    graph.add(outer);
    graph.add(inner);
    outer.members = ['a'];
    inner.members = ['b', 'c'];
    outer.inner = [inner];
    inner.resizeTo([b, c], 24);
    outer.resizeTo([a, inner], 24);
    // The outer box encloses the nested one, title bar included.
    expect(outer.pos[0] <= inner.pos[0] && outer.pos[1] < inner.pos[1]).toBe(true);
    expect(outer.pos[0] + outer.size[0] >= inner.pos[0] + inner.size[0]).toBe(true);

    outer.recomputeInsideNodes();
    const innerAt = [inner.pos[0], inner.pos[1]];
    outer.move(10, 5);
    expect([a.pos[0], b.pos[0], c.pos[0], a.pos[1], b.pos[1], c.pos[1]]).toEqual([110, 410, 710, 105, 105, 105]);
    expect([inner.pos[0], inner.pos[1]]).toEqual([innerAt[0]! + 10, innerAt[1]! + 5]);

    inner.recomputeInsideNodes();
    inner.move(-10, 0);
    expect([a.pos[0], b.pos[0], c.pos[0]]).toEqual([110, 400, 700]);
  });

  it('a parent link that loops does not recurse for ever', () => {
    const graph = new LGraph();
    node(graph, 'a', 100, 100);
    const one = new FlowGroupBox('One');
    const two = new FlowGroupBox('Two');
    graph.add(one);
    graph.add(two);
    one.members = ['a'];
    one.inner = [two];
    two.inner = [one];
    one.recomputeInsideNodes();
    expect(one.depth((box) => (box === one ? two : one))).toBe(1);
  });
});
