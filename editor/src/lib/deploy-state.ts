/**
 * Where a flow stands between the editor, the stored versions and what runs: shown on its tab so that "saved but
 * not deployed" cannot be missed.
 */
export type DeployStateKey = 'unsaved' | 'undeployed-changes' | 'not-deployed' | 'deployed';

export interface DeployState {
  key: DeployStateKey;
  /** Short text on the tab. */
  text: string;
  /** The full sentence (tooltip and screen readers). */
  title: string;
}

export function deployState(flow: { dirty: boolean; savedVersion: number | null; deployed: boolean; deployedVersion: number | null }): DeployState {
  const running = flow.deployed && flow.deployedVersion !== null ? `version ${flow.deployedVersion} is running` : 'nothing of it is running';
  if (flow.dirty || flow.savedVersion === null) return { key: 'unsaved', text: '● unsaved', title: `Unsaved changes; ${running}` };
  if (!flow.deployed) return { key: 'not-deployed', text: 'not deployed', title: `Saved as version ${flow.savedVersion}; not deployed` };
  if (flow.deployedVersion !== flow.savedVersion) {
    return { key: 'undeployed-changes', text: `v${flow.deployedVersion} live · changes not deployed`, title: `Version ${flow.savedVersion} is saved but version ${flow.deployedVersion} is running: deploy to run the changes` };
  }
  return { key: 'deployed', text: `v${flow.deployedVersion} live`, title: `Version ${flow.deployedVersion} is deployed and running` };
}
