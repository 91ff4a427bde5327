import { describe, expect, it } from 'vitest';
import type { FlowDocument } from '../api/types';
import { createGroup, dropFromGroups, groupOf, removeGroup } from './groups';

const doc = (): FlowDocument => ({ id: 'f', name: 'f', version: 1, nodes: ['a', 'b', 'c'].map((id) => ({ id, type: 'debug' })) });

describe('groups', () => {
  it('creates a named, coloured group; a node moves out of its old group; an emptied group goes', () => {
    const d = doc();
    const first = createGroup(d, ['a', 'b'], 'Inputs');
    expect(d.groups).toEqual([{ id: first, name: 'Inputs', color: '#3b82f6', nodes: ['a', 'b'] }]);
    const second = createGroup(d, ['a', 'b', 'c'], '');
    expect(d.groups!.map((g) => g.id)).toEqual([second]);
    expect(groupOf(d, 'c')?.name).toBe('Group 2');
  });

  it('deleted nodes leave their group; removing the last group removes the field', () => {
    const d = doc();
    const id = createGroup(d, ['a', 'b'], 'G');
    dropFromGroups(d, new Set(['a']));
    expect(d.groups![0]!.nodes).toEqual(['b']);
    dropFromGroups(d, new Set(['b']));
    expect(d.groups).toBeUndefined();
    createGroup(d, ['c'], 'H');
    removeGroup(d, d.groups![0]!.id);
    expect(d.groups).toBeUndefined();
    expect(id).toBe('group-1');
  });
});

describe('nested groups', () => {
  const nested = (): FlowDocument => ({
    ...doc(),
    groups: [
      { id: 'outer', name: 'Outer', nodes: [] },
      { id: 'inner', name: 'Inner', nodes: ['a', 'b'], parent: 'outer' },
      { id: 'deep', name: 'Deep', nodes: ['c'], parent: 'inner' },
    ],
  });

  it('a group holding only nested groups stays while they hold nodes', () => {
    const d = nested();
    dropFromGroups(d, new Set(['a']));
    expect(d.groups!.map((g) => g.id)).toEqual(['outer', 'inner', 'deep']);
    dropFromGroups(d, new Set(['b', 'c']));
    expect(d.groups).toBeUndefined();
  });

  it('ungrouping moves the nested groups up to the parent', () => {
    const d = nested();
    removeGroup(d, 'inner');
    expect(d.groups!.map((g) => [g.id, g.parent])).toEqual([['outer', undefined], ['deep', 'outer']]);
    removeGroup(d, 'outer');
    expect(d.groups).toEqual([{ id: 'deep', name: 'Deep', nodes: ['c'] }]);
  });
});
