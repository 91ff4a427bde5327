/**
 * End to end (issue 13): the AI crew node's form as cards in a real editor against a real runtime. Agents show
 * role/goal/backstory written out (a template's text greyed in empty fields); a task picks its agent from the crew
 * and its context among EARLIER tasks only; a task is added, its structured output given as fields and an agent's
 * tool picked from the node types usable as tools — all without YAML or JSON; the saved crew deploys (the runtime's
 * own validation accepts it). A CrewAI crew whose tasks.yaml has no agent lines is refused at deploy until the
 * imported tasks get an agent in the form (and an imported agent a tool). Screenshots in test-artifacts/e2e/crew-form-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_TEMPLATES } from '../../nodes/ai/src/agents/templates.ts';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { axeViolations } from './axe.ts';
import { screenshot } from './browser.ts';
import { clickNode, openFlow } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const shot = (name: string) => screenshot(page, 'e2e', `crew-form-${name}`);
const sfx = Date.now().toString(36);
const pageErrors: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await createAdmin(server);
  ({ browser, page } = await signedInEditor(server, { viewport: { width: 1440, height: 1000 }, pageErrors }));
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await shot(`failed-${context.task.name.slice(0, 20)}`);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const saveAndWait = async (id: string) => {
  await page.click('[data-test="save"]');
  await page.locator(`[data-test="tab-state-${id}"]`).filter({ hasText: 'not deployed' }).waitFor({ timeout: 30_000 });
  return (await server.api('GET', `/api/v1/flows/${id}`)).body.nodes[0].props;
};

describe('the crew node’s form as cards, end to end', () => {
  it('edits agents and tasks on cards: template text shown, context only from earlier tasks, output as fields, tools picked', async () => {
    const id = `crew-cards-${sfx}`;
    await openFlow(server, page, {
      id,
      name: 'Crew cards',
      nodes: [
        {
          id: 'crew',
          type: 'ai-crew',
          position: { x: 300, y: 200 },
          props: {
            agents: [
              { key: 'researcher', template: 'research' },
              { key: 'writer', role: 'Writer', goal: 'Write clearly' },
            ],
            tasks: [
              { key: 'research', description: 'Facts about {topic}', expectedOutput: 'Three facts', agent: 'researcher' },
              { key: 'outline', description: 'An outline', agent: 'writer' },
              { key: 'write', description: 'The post', agent: 'writer' },
            ],
          },
        },
      ],
    });
    await clickNode(page, 'crew');
    const form = page.locator('[data-test="crew-form"]');
    await form.waitFor();
    // The template's text, greyed, where the researcher's role/goal are empty: what the agent will be told.
    const role = page.locator('[data-test="field-/agents/0/role"]');
    expect(await role.inputValue()).toBe('');
    expect(await role.getAttribute('placeholder')).toBe(AGENT_TEMPLATES.research.role);
    expect(await page.locator('[data-test="field-/agents/0/goal"]').getAttribute('placeholder')).toBe(AGENT_TEMPLATES.research.goal);
    expect(await page.locator('[data-test="agent-card-researcher"] [data-test="agent-title"]').textContent()).toBe(AGENT_TEMPLATES.research.role);
    expect(await page.locator('[data-test="field-/tasks/0/expectedOutput"]').inputValue()).toBe('Three facts');
    await shot('01-cards');

    // Context: "chosen" on the last task offers the two tasks before it — not itself, nothing later.
    const write = page.locator('[data-test="task-card-write"]');
    await write.locator('[data-test="context-chosen"]').check();
    expect(await write.locator('[data-test*="/context-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-test')))).toEqual(['pick-/tasks/2/context-research', 'pick-/tasks/2/context-outline']);
    // "Chosen" starts from the task just before; the research instead.
    expect(await page.isChecked('[data-test="pick-/tasks/2/context-outline"]')).toBe(true);
    await page.check('[data-test="pick-/tasks/2/context-research"]');
    await page.uncheck('[data-test="pick-/tasks/2/context-outline"]');
    // The first task has nothing before it.
    expect(await page.locator('[data-test="task-card-research"] [data-test="context-chosen"]').isDisabled()).toBe(true);

    // Structured output as fields.
    await write.locator('[data-test="output-field-add"]').click();
    await write.locator('[data-test="output-field-name"]').fill('headline');
    await write.locator('[data-test="output-field-description"]').fill('One line');
    await write.locator('[data-test="output-field-add"]').click();
    await write.locator('[data-test="output-field-name"]').nth(1).fill('tags');
    await write.locator('[data-test="output-field-type"]').nth(1).selectOption('list of text');
    await write.locator('[data-test="output-field-required"]').nth(1).uncheck();

    // A new task: its agent picked, its context offers every task above it.
    await page.click('[data-test="task-add"]');
    const added = page.locator('[data-test="task-card-task"]');
    await added.waitFor();
    await page.fill('[data-test="field-/tasks/3/description"]', 'Review the post for {topic}');
    await page.selectOption('[data-test="field-/tasks/3/agent"]', 'researcher');
    await added.locator('[data-test="context-chosen"]').check();
    expect(await added.locator('[data-test*="/context-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-test')))).toEqual([
      'pick-/tasks/3/context-research',
      'pick-/tasks/3/context-outline',
      'pick-/tasks/3/context-write',
    ]);

    // A tool for the researcher, picked from the node types usable as tools.
    const researcher = page.locator('[data-test="agent-card-researcher"]');
    await researcher.locator('[data-test="tool-add"]').click();
    expect(await researcher.locator('[data-test="tool-type"] option').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('(function)'), expect.stringContaining('(http-request)')]));
    await researcher.locator('[data-test="tool-type"]').selectOption('http-request');
    await researcher.locator('[data-test="tool-name"]').fill('fetch_page');
    await write.scrollIntoViewIfNeeded();
    await shot('02-task-edited');
    expect(await axeViolations(page, '[data-test="crew-form"]')).toEqual([]);

    const props = await saveAndWait(id);
    expect(props.tasks[2]).toMatchObject({
      key: 'write',
      context: ['research'],
      outputSchema: { type: 'object', properties: { headline: { type: 'string', description: 'One line' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['headline'] },
    });
    expect(props.tasks[3]).toMatchObject({ key: 'task', description: 'Review the post for {topic}', agent: 'researcher', context: ['write'] });
    expect(props.agents[0]).toEqual({ key: 'researcher', template: 'research', tools: [{ type: 'http-request', name: 'fetch_page' }] });
    // The runtime's own check of the crew (every agent exists, context only from earlier tasks) accepts it.
    const deployed = await server.api('POST', `/api/v1/flows/${id}/deploy`);
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
    expect(pageErrors).toEqual([]);
  });

  it('assigns agents to imported CrewAI tasks that have none, without editing YAML', async () => {
    const id = `crew-yaml-${sfx}`;
    const agentsYaml = 'analyst:\n  role: Market analyst\n  goal: Understand the market\n  backstory: Years of experience.\nstrategist:\n  role: Strategist\n  goal: Plan the campaign\n';
    const tasksYaml = 'research_task:\n  description: Research {customer}\n  expected_output: A report\nplan_task:\n  description: Plan a campaign for {customer}\n  expected_output: A plan\n';
    const doc = (process: string) => ({ id, name: 'CrewAI import', nodes: [{ id: 'crew', type: 'ai-crew', position: { x: 300, y: 200 }, props: { process, source: 'crewai', crewai: { agentsYaml, tasksYaml } } }] });
    // As written, a sequential crew's tasks need agents: refused, saying where to assign them (a hierarchical one is fine).
    const refused = await server.api('POST', '/api/v1/flows', doc('sequential'));
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain('has no agent');
    await openFlow(server, page, doc('hierarchical'));
    await clickNode(page, 'crew');
    const imported = page.locator('[data-test="imported-tasks"]');
    await imported.waitFor();
    await page.selectOption('[data-test="crew-form"] select[data-test="field-/process"]', { label: 'sequential' });
    await page.click('[data-test="imported-add-research_task"]');
    await page.selectOption('[data-test="field-/tasks/0/agent"]', 'analyst');
    await page.click('[data-test="imported-add-plan_task"]');
    await page.selectOption('[data-test="field-/tasks/1/agent"]', 'strategist');
    // The imported task's own text is shown, greyed, in its card's empty fields.
    expect(await page.locator('[data-test="field-/tasks/1/description"]').getAttribute('placeholder')).toBe('Plan a campaign for {customer}');
    expect(await page.locator('[data-test="field-/tasks/1/expectedOutput"]').getAttribute('placeholder')).toBe('A plan');
    // In the crew's order the research runs first: the only context the plan may take.
    const plan = page.locator('[data-test="task-card-plan_task"]');
    await plan.locator('[data-test="context-chosen"]').check();
    expect(await plan.locator('[data-test*="/context-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-test')))).toEqual(['pick-/tasks/1/context-research_task']);
    await imported.waitFor({ state: 'detached' });
    // An imported agent gets settings the same way (here a tool), its agents.yaml text greyed in the card.
    await page.click('[data-test="imported-agent-add-analyst"]');
    const analyst = page.locator('[data-test="agent-card-analyst"]');
    expect(await analyst.locator('[data-test="field-/agents/0/role"]').getAttribute('placeholder')).toBe('Market analyst');
    await analyst.locator('[data-test="tool-add"]').click();
    await analyst.locator('[data-test="tool-type"]').selectOption('http-request');
    await plan.scrollIntoViewIfNeeded();
    await shot('03-crewai-assigned');

    const props = await saveAndWait(id);
    expect(props.process).toBe('sequential');
    expect(props.agents).toEqual([{ key: 'analyst', tools: [{ type: 'http-request' }] }]);
    expect(props.tasks).toEqual([
      { key: 'research_task', agent: 'analyst' },
      { key: 'plan_task', agent: 'strategist', context: ['research_task'] },
    ]);
    const deployed = await server.api('POST', `/api/v1/flows/${id}/deploy`);
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
    expect(pageErrors).toEqual([]);
  });
  it('keeps the crew panel short: CrewAI YAML, manager and the other grouped settings folded under headings', async () => {
    // Issue 12: "the CrewAI YAML and manager sections make one very long panel". A hierarchical CrewAI crew with YAML,
    // a manager and memory set: every group of settings is one line until unfolded.
    const id = `crew-short-${sfx}`;
    const lines = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i)).join('');
    const agentsYaml = lines(8, (i) => `agent_${i}:\n  role: Analyst ${i}\n  goal: Understand part ${i} of the market\n  backstory: Years of experience in area ${i}.\n`);
    const tasksYaml = lines(8, (i) => `task_${i}:\n  description: Research part ${i} for {customer}\n  expected_output: A report on part ${i}\n  agent: agent_${i}\n`);
    await openFlow(server, page, {
      id,
      name: 'Crew short panel',
      nodes: [
        {
          id: 'crew',
          type: 'ai-crew',
          position: { x: 300, y: 200 },
          props: { process: 'hierarchical', source: 'crewai', crewai: { agentsYaml, tasksYaml }, manager: { role: 'Editor in chief', maxIterations: 2 }, memory: { shortTerm: true } },
        },
      ],
    });
    await clickNode(page, 'crew');
    await page.locator('[data-test="crew-form"]').waitFor();
    const panel = page.locator('[data-test="properties"]');
    const panelHeight = () => panel.evaluate((el) => {
      // The element that scrolls: the panel or the sidebar around it.
      let node: HTMLElement | null = el as HTMLElement;
      while (node && node.scrollHeight <= node.clientHeight + 1 && node.parentElement) node = node.parentElement;
      return (node ?? (el as HTMLElement)).scrollHeight;
    });
    const yamlSection = page.locator('[data-test="crew-section-crewai"]');
    const managerSection = page.locator('[data-test="crew-section-manager"]');
    expect(await yamlSection.locator('summary').innerText()).toContain('agents.yaml 32 lines, tasks.yaml 32 lines');
    expect(await managerSection.locator('summary').innerText()).toContain('role, max iterations');
    expect(await yamlSection.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await managerSection.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    const folded = await panelHeight();
    await shot('04-settings-folded');

    // Unfolded, each shows its own form: the manager's role as set, the YAML as pasted.
    const sections = await page.locator('[data-test^="crew-section-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-test')));
    for (const section of sections) await page.click(`[data-test="${section}"] > summary`);
    expect(await page.locator('input[data-test="field-/manager/role"]').inputValue()).toBe('Editor in chief');
    await page.locator('[data-test="field-/crewai/agentsYaml"]').first().waitFor();
    const unfolded = await panelHeight();
    await managerSection.scrollIntoViewIfNeeded();
    await shot('05-settings-unfolded');
    console.log(`crew panel: ${folded} px folded, ${unfolded} px with every section unfolded (the panel before)`);
    // Folded, the whole panel — 8 imported agents and tasks listed — fits in about two screens (viewport 1000 px; 2,116 px
    // measured against 4,845 px unfolded),
    // and is well under half the unfolded length.
    expect(folded).toBeLessThan(2_600);
    expect(folded).toBeLessThan(unfolded / 2);

    // Folding the YAML again is kept while the form is open (an edit elsewhere does not unfold it).
    await page.click('[data-test="crew-section-crewai"] > summary');
    await page.selectOption('[data-test="crew-form"] select[data-test="field-/process"]', { label: 'sequential' });
    expect(await yamlSection.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    // Sequential: the manager is not used, but it holds settings, so it stays (folded), never hidden with a value.
    expect(await managerSection.count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
