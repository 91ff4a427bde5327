/**
 * A flow group's box on the canvas. litegraph moves whatever lies inside a group's box with it (it recomputes the
 * box's children from positions when a drag starts); a flow group is a named set of nodes, so only its members move
 * with it, and a node that merely sits inside the box stays where it is. A group nested in another (FlowGroup.parent,
 * Node-RED's nested groups) is drawn inside its parent's box and moves with it, members and box alike.
 */
import { LGraphGroup } from '@comfyorg/litegraph';

export class FlowGroupBox extends LGraphGroup {
  /** The ids of the group's member nodes (the flow document's `groups[].nodes`). */
  members: readonly string[] = [];
  /** The boxes of the groups nested directly in this one. */
  inner: FlowGroupBox[] = [];

  override recomputeInsideNodes(): void {
    const graph = this.graph;
    this._nodes.length = 0;
    this._children.clear();
    if (!graph) return;
    const seen = new Set<FlowGroupBox>();
    const take = (box: FlowGroupBox) => {
      // A parent link that loops back (a hand-edited document) must not recurse for ever.
      if (seen.has(box)) return;
      seen.add(box);
      for (const id of box.members) {
        const node = graph.getNodeById(id);
        if (!node) continue;
        this._nodes.push(node);
        this._children.add(node);
      }
      for (const inner of box.inner) {
        // Each nested member moves once, with this box: the nested box itself moves without its own children.
        inner._nodes.length = 0;
        inner._children.clear();
        this._children.add(inner);
        take(inner);
      }
    };
    take(this);
  }

  /** How deep the group is nested (0: not nested); parents are drawn first, so nested boxes stay on top. */
  depth(parentOf: (box: FlowGroupBox) => FlowGroupBox | undefined): number {
    let depth = 0;
    const seen = new Set<FlowGroupBox>([this]);
    for (let box = parentOf(this); box && !seen.has(box); box = parentOf(box)) {
      seen.add(box);
      depth++;
    }
    return depth;
  }
}
