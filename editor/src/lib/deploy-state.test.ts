import { describe, expect, it } from 'vitest';
import { deployState } from './deploy-state';

describe('deploy state of a flow', () => {
  it.each([
    [{ dirty: true, savedVersion: 3, deployed: true, deployedVersion: 3 }, 'unsaved', '● unsaved'],
    [{ dirty: false, savedVersion: null, deployed: false, deployedVersion: null }, 'unsaved', '● unsaved'],
    [{ dirty: false, savedVersion: 2, deployed: false, deployedVersion: null }, 'not-deployed', 'not deployed'],
    [{ dirty: false, savedVersion: 4, deployed: true, deployedVersion: 3 }, 'undeployed-changes', 'v3 live · changes not deployed'],
    [{ dirty: false, savedVersion: 4, deployed: true, deployedVersion: 4 }, 'deployed', 'v4 live'],
  ])('%j is %s', (flow, key, text) => {
    expect(deployState(flow)).toMatchObject({ key, text });
  });

  it('says what runs while there are unsaved changes', () => {
    expect(deployState({ dirty: true, savedVersion: 3, deployed: true, deployedVersion: 2 }).title).toBe('Unsaved changes; version 2 is running');
  });
});
