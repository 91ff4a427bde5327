import { LGraph, LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { describe, expect, it } from 'vitest';
import { findLoops } from '../cycles';
import { selfWireDrop, withSelfWire, type DroppedLinks } from './self-wire';

/** A node as the canvas makes one (graph.ts): one input slot at the node's left, `outputs` output ports. */
function flowNode(graph: LGraph, id: string, outputs: number, inputs = 1): LGraphNode {
  const node = new LGraphNode(id);
  node.id = id;
  for (let i = 0; i < inputs; i++) node.addInput('', 'flow', { pos: [LiteGraph.NODE_SLOT_HEIGHT * 0.5, LiteGraph.NODE_SLOT_HEIGHT * 0.7] });
  for (let i = 0; i < outputs; i++) node.addOutput('', 'flow');
  node.size = [160, 30 + outputs * LiteGraph.NODE_SLOT_HEIGHT];
  graph.add(node);
  node.pos = [200, 100];
  return node;
}

const fromOutput = (node: LGraphNode, port: number, existing = false): DroppedLinks => ({
  state: { connectingTo: 'input', draggingExistingLinks: existing },
  renderLinks: [{ node, fromSlotIndex: port }],
});
const fromInput = (node: LGraphNode): DroppedLinks => ({ state: { connectingTo: 'output', draggingExistingLinks: false }, renderLinks: [{ node, fromSlotIndex: 0 }] });
const point = (p: ArrayLike<number>): [number, number] => [p[0]!, p[1]!];

describe('a wire dragged back onto its own node', () => {
  it('from an output released on the same node’s input is a self-wire of that output', () => {
    const graph = new LGraph();
    const router = flowNode(graph, 'router', 3);
    expect(selfWireDrop(fromOutput(router, 0), router, point(router.getInputPos(0)))).toEqual({ id: 'router', port: 0 });
    expect(selfWireDrop(fromOutput(router, 2), router, point(router.getInputPos(0)))).toEqual({ id: 'router', port: 2 });
  });

  it('from the input released on one of the node’s own outputs is a self-wire of that output', () => {
    const graph = new LGraph();
    const router = flowNode(graph, 'router', 3);
    expect(selfWireDrop(fromInput(router), router, point(router.getOutputPos(1)))).toEqual({ id: 'router', port: 1 });
  });

  it('is nothing when released elsewhere on the node, on another node, on no node, or when an existing wire is moved', () => {
    const graph = new LGraph();
    const node = flowNode(graph, 'again', 1);
    const other = flowNode(graph, 'other', 1);
    other.pos = [600, 100];
    const middle: [number, number] = [node.pos[0] + node.size[0] / 2, node.pos[1] + node.size[1] / 2];
    // A drag that ends where it started (on the output) or on the body is a cancelled drag, not a loop.
    expect(selfWireDrop(fromOutput(node, 0), node, middle)).toBeUndefined();
    expect(selfWireDrop(fromOutput(node, 0), node, point(node.getOutputPos(0)))).toBeUndefined();
    expect(selfWireDrop(fromOutput(node, 0), other, point(other.getInputPos(0)))).toBeUndefined();
    expect(selfWireDrop(fromOutput(node, 0), null, [0, 0])).toBeUndefined();
    expect(selfWireDrop(fromOutput(node, 0, true), node, point(node.getInputPos(0)))).toBeUndefined();
  });

  it('is nothing on a node without an input (an inject)', () => {
    const graph = new LGraph();
    const tick = flowNode(graph, 'tick', 1, 0);
    expect(selfWireDrop(fromOutput(tick, 0), tick, [tick.pos[0] + 5, tick.pos[1] + 7])).toBeUndefined();
  });

  it('adds the wire to the flow once, after the output’s other targets, and the edit-time loop warning finds it', () => {
    expect(withSelfWire([['next']], { id: 'again', port: 0 })).toEqual([['next', 'again']]);
    expect(withSelfWire([['next']], { id: 'again', port: 2 })).toEqual([['next'], [], ['again']]);
    expect(withSelfWire([['again']], { id: 'again', port: 0 })).toEqual([['again']]);
    const wires = withSelfWire([['next']], { id: 'again', port: 0 });
    expect(findLoops({ nodes: [{ id: 'again', type: 'delay', props: {}, wires }, { id: 'next', type: 'debug', props: {}, wires: [] }] as never })).toEqual([['again']]);
  });
});
