/**
 * A flow group's box on the canvas. litegraph moves whatever lies inside a group's box with it (it recomputes the
 * box's children from positions when a drag starts); a flow group is a named set of nodes, so only its members move
 * with it, and a node that merely sits inside the box stays where it is.
 */
import { LGraphGroup } from '@comfyorg/litegraph';

export class FlowGroupBox extends LGraphGroup {
  /** The ids of the group's member nodes (the flow document's `groups[].nodes`). */
  members: readonly string[] = [];

  override recomputeInsideNodes(): void {
    const graph = this.graph;
    this._nodes.length = 0;
    this._children.clear();
    if (!graph) return;
    for (const id of this.members) {
      const node = graph.getNodeById(id);
      if (!node) continue;
      this._nodes.push(node);
      this._children.add(node);
    }
  }
}
