/**
 * Import a CrewAI Flow from the command line:
 *   node --import tsx nodes/ai/src/crew/crewai-flows-cli.ts src/<project>/main.py [-o flow.json]
 * The crews' YAML is read from crews/<name>/config/ beside main.py. The flow JSON goes to stdout (or -o), what was
 * not mapped to stderr, one line each; then `flowcrew import flow.json` (or the editor's import) brings it in.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importCrewAIFlow } from './crewai-flows.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: crewai-flows-cli <main.py> [-o flow.json]\n');
  process.exit(2);
}
const root = path.dirname(path.resolve(file));
const files: Record<string, string> = {};
for (const crew of await readdir(path.join(root, 'crews')).catch(() => [] as string[])) {
  for (const relative of [`crews/${crew}/config/agents.yaml`, `crews/${crew}/config/tasks.yaml`, `crews/${crew}/${crew}.py`, `crews/${crew}/crew.py`]) {
    const text = await readFile(path.join(root, relative), 'utf8').catch(() => undefined);
    if (text !== undefined) files[relative] = text;
  }
}
const { flow, unmapped } = importCrewAIFlow(await readFile(file, 'utf8'), files);
const json = `${JSON.stringify(flow, null, 2)}\n`;
if (values.output) await writeFile(values.output, json);
else process.stdout.write(json);
for (const u of unmapped) process.stderr.write(`${file}:${u.line}${u.method ? ` (${u.method})` : ''}: ${u.reason}\n`);
