#!/usr/bin/env node
/**
 * npm create flowcrew-nodes <directory> [--name <package>] [--type <node type>] [--sdk <version range>] [--license <SPDX>]
 *
 * Writes a node pack that follows the same layout as Flowcrew's own packs: package.json with the `flowcrew`
 * manifest (module list, SDK API version) and the `flowcrew-nodes` keyword the palette manager searches for, a
 * sample node on @flowcrew/sdk, its tests on @flowcrew/sdk/testing, a README and a tsconfig. Nothing is installed:
 * run `npm install` and `npm test` in the new directory. Refuses to write into a directory that is not empty.
 */
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const templateDir = fileURLToPath(new URL('../template/', import.meta.url));
const NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const TYPE = /^[a-z0-9][a-z0-9_.:-]*$/;
// An SPDX expression (MIT, Apache-2.0, "MIT OR Apache-2.0") or npm's UNLICENSED.
const LICENSE = /^[A-Za-z0-9][A-Za-z0-9.+\-() :]*$/;

export async function scaffold(target, options = {}) {
  const dir = path.resolve(target);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: choose a new directory`);
  const base = path.basename(dir).toLowerCase().replace(/[^a-z0-9-._~]/g, '-');
  const name = options.name ?? (base.startsWith('flowcrew-nodes-') ? base : `flowcrew-nodes-${base}`);
  if (!NAME.test(name)) throw new Error(`"${name}" is not an npm package name (lower case letters, digits, - . _ ~, optional @scope/)`);
  const type = options.type ?? name.replace(/^@[^/]+\//, '').replace(/^flowcrew-nodes-/, '');
  if (!TYPE.test(type)) throw new Error(`"${type}" is not a node type name (letters, digits, - _ . :)`);
  // Flowcrew's own licence (Apache-2.0, as Node-RED's) unless the author chooses another.
  const license = options.license ?? 'Apache-2.0';
  if (!LICENSE.test(license)) throw new Error(`"${license}" is not a licence npm accepts (an SPDX identifier such as MIT or Apache-2.0, or UNLICENSED)`);
  // The node's identifier in code: camelCase of the type ("acme-lookup" -> acmeLookup), never starting with a digit.
  const id = type.replace(/[-_.:]+(.)/g, (_, c) => c.toUpperCase()).replace(/^(\d)/, '_$1');
  const values = { NAME: name, TYPE: type, TYPE_ID: id, SDK: options.sdk ?? '^0.1.0', LABEL: type.replace(/[-_.:]+/g, ' '), LICENSE: license };
  const written = [];
  for (const file of await listFiles(templateDir)) {
    const text = (await readFile(path.join(templateDir, file), 'utf8')).replace(/__(NAME|TYPE_ID|TYPE|SDK|LABEL|LICENSE)__/g, (_, key) => values[key]);
    // npm drops .gitignore from published packages, so the template carries it as "gitignore".
    const out = path.join(dir, file === 'gitignore' ? '.gitignore' : file);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, text);
    written.push(path.relative(dir, out));
  }
  return { dir, name, type, files: written.sort() };
}

async function listFiles(root, prefix = '') {
  const files = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, rel)));
    else files.push(rel);
  }
  return files;
}

// Run as a command: `npm create` starts it through a node_modules/.bin symlink, so compare real paths.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(path.resolve(process.argv[1]))) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { name: { type: 'string' }, type: { type: 'string' }, sdk: { type: 'string' }, license: { type: 'string' } } });
  if (positionals.length !== 1) {
    console.error('usage: npm create flowcrew-nodes <directory> [--name <package>] [--type <node type>] [--sdk <version range>] [--license <SPDX>]');
    process.exit(2);
  }
  scaffold(positionals[0], values).then(
    ({ dir, name, type, files }) => {
      console.log(`Created ${name} (node type "${type}") in ${dir}:\n${files.map((f) => `  ${f}`).join('\n')}\n\nNext:\n  cd ${path.relative(process.cwd(), dir) || '.'}\n  npm install\n  npm test\n  npm publish   # then install it from the editor's palette manager`);
    },
    (error) => {
      console.error(`create-flowcrew-nodes: ${error.message}`);
      process.exit(1);
    },
  );
}
