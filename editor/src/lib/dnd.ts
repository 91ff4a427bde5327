/** The drag-and-drop data type for a node type dragged from the palette onto the canvas. */
export const NODE_TYPE_MIME = 'application/x-flowcrew-node-type';
