export const nodes = [];
