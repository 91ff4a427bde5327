/**
 * Editor canvas benchmark (printed, not asserted): time to open a generated 1,000-node flow and the frame rate
 * while panning it, measured in headless Chromium against a real runtime serving the built editor.
 *
 *   node --import tsx bench/editor-canvas.ts           (or: npm run bench:editor)
 *   npm run bench:editor -- --compare <git rev> [--rounds 5] [--current <git rev>] [--profile]
 *
 * With --compare, the editor of that revision is built beside the current one and both are measured in alternating
 * rounds in one run (each against its own runtime, in its own browser context): on a machine whose load changes by
 * the minute only figures taken side by side say whether a change made things faster or slower.
 *
 * Targets: open in under 1 s, pan at 60 fps. Headless Chromium here renders without a GPU (--disable-gpu), so the
 * figures are a floor: a desktop browser with GPU canvas is faster.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { createAdmin, signIn } from '../editor/e2e/auth.ts';
import { launchBrowser, screenshot } from '../editor/e2e/browser.ts';
import { startTestServer, type TestServer } from '../runtime/src/testing/server.ts';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const COLUMNS = 40;
const PAN_MS = 3000;

/** Rows of inject → change → change … wired in a chain; every tenth node a two-rule switch (two output ports). */
function generateFlow(id: string, count: number) {
  const nodes = [];
  for (let i = 0; i < count; i++) {
    const column = i % COLUMNS;
    const row = Math.floor(i / COLUMNS);
    const last = column === COLUMNS - 1 || i === count - 1;
    const next = last ? [] : [`n${i + 1}`];
    const position = { x: column * 220, y: row * 110 };
    if (column === 0) nodes.push({ id: `n${i}`, type: 'inject', name: `start ${row}`, position, props: {}, wires: [next] });
    else if (column % 10 === 5) {
      nodes.push({ id: `n${i}`, type: 'switch', name: `route ${i}`, position, props: { property: 'payload', rules: [{ t: 'nnull' }, { t: 'else' }] }, wires: [next, []] });
    } else {
      nodes.push({ id: `n${i}`, type: 'change', name: `step ${i}`, position, props: { rules: [{ t: 'set', p: 'payload.step', pt: 'msg', to: String(i), tot: 'str' }] }, wires: [next] });
    }
  }
  return { format: 'flowcrew/flow@1', id, name: `${count} nodes`, version: 0, nodes };
}

interface PanResult {
  fps: number;
  frames: number;
  drawMeanMs: number;
  drawP95Ms: number;
  visibleNodes: number;
  scale: number;
  /** CPU time of all the browser's processes (renderer, GPU/compositor, …) per frame drawn: what the frame cost. */
  cpuPerFrameMs: number;
}

interface Figures {
  cold: number;
  warm: number;
  warmPainted: number;
  atFit: PanResult;
  at100: PanResult;
  mouseFrames: number;
  mouseMs: number;
  parts?: string;
  /** The machine's 1-minute load average when the round started. */
  load: number;
}

/**
 * CPU time (ms) used so far by this process's child processes and theirs — the browser's — from /proc: a frame's
 * cost on a shared machine, where frames per second also measure everyone else's load. Linux only (0 elsewhere).
 */
function browserCpuMs(): number {
  if (!existsSync('/proc/self/stat')) return 0;
  const parentOf = new Map<number, number>();
  const cpuOf = new Map<number, number>();
  const tickMs = 1000 / 100; // USER_HZ
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
      cpuOf.set(Number(entry), (Number(fields[11]) + Number(fields[12])) * tickMs);
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0;
  for (const [pid, ms] of cpuOf) {
    let ancestor = parentOf.get(pid);
    while (ancestor !== undefined && ancestor > 1 && ancestor !== process.pid) ancestor = parentOf.get(ancestor);
    if (ancestor === process.pid) total += ms;
  }
  return total;
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * The editor built into a temporary directory of its own (editor/dist is rebuilt by every end-to-end run, which would
 * change the files under a running benchmark): the working tree's, or with `rev` that git revision's (its sources
 * exported with git archive).
 */
async function buildEditor(rev?: string): Promise<{ dist: string; cleanup: () => void }> {
  // A revision's sources under the repository (the build resolves the same node_modules), out of git's and vitest's
  // way; the build in the temp dir (the runtime serves no path with a dot-directory in it).
  mkdirSync(path.join(repoRoot, '.cache'), { recursive: true });
  const work = mkdtempSync(path.join(repoRoot, '.cache', 'bench-editor-'));
  const dist = mkdtempSync(path.join(tmpdir(), 'bench-editor-dist-'));
  if (rev) {
    // The editor imports a few types and tables from the runtime and the node packs (e.g. the CrewAI field table).
    const archive = execFileSync('git', ['-C', repoRoot, 'archive', rev, 'editor', 'runtime/src', 'nodes'], { maxBuffer: 512 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', work], { input: archive });
  }
  await build({
    configFile: false,
    root: rev ? path.join(work, 'editor') : path.join(repoRoot, 'editor'),
    plugins: [vue()],
    logLevel: 'error',
    build: {
      outDir: dist,
      emptyOutDir: true,
      chunkSizeWarningLimit: 5000,
      rollupOptions: { output: { manualChunks: { litegraph: ['@comfyorg/litegraph'], codemirror: ['codemirror', '@codemirror/lang-javascript'], charts: ['chart.js'] } } },
    },
  });
  return { dist, cleanup: () => [work, dist].forEach((dir) => rmSync(dir, { recursive: true, force: true })) };
}

/** A runtime serving the editor build in `dist`, with the two flows. */
async function serve(dist: string): Promise<TestServer> {
  const server = await startTestServer({ editorDist: dist });
  const small = await server.api('POST', '/api/v1/flows', { id: 'small', name: 'Small', nodes: [] });
  const big = await server.api('POST', '/api/v1/flows', generateFlow('big', NODES));
  if (small.status !== 201 || big.status !== 201) throw new Error(`could not create the flows: ${JSON.stringify(big.body).slice(0, 500)}`);
  await createAdmin(server);
  return server;
}

/** One round on one runtime: cold open, warm switch, pan at the whole flow and at 100 %, a mouse drag. */
async function measure(browser: Browser, server: TestServer, shot: boolean, profile = false): Promise<Figures> {
  const load = loadavg()[0]!;
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  // tsx keeps function names with an `__name` helper, which the functions evaluated in the page then call.
  await page.addInitScript('window.__name = (fn) => fn');
  // Signed in once: the session cookie then opens the editor straight away, as for a returning user.
  await page.goto(server.url);
  await signIn(page);

  // Cold: load the page straight onto the big flow (includes starting the editor; its files are in the HTTP cache, as
  // for a returning user). From about:blank, so this is a new document: going from the sign-in page's URL to the
  // same URL with another #fragment would only change the hash, and the figure would then count from the sign-in
  // page's load (the figures before 3 December did).
  await page.goto('about:blank');
  await page.goto(`${server.url}/#/flows/big`, { waitUntil: 'commit' });
  const cold = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const done = () => requestAnimationFrame(() => resolve(performance.now()));
        const canvas = document.querySelector<HTMLCanvasElement>('[data-test="canvas"]');
        if (canvas?.dataset.flowId === 'big') return done();
        window.addEventListener('flowcrew:flow-rendered', (e) => (e as CustomEvent).detail.flowId === 'big' && done());
      }),
  );

  // Warm: the editor is running on a small flow; switch to the big one (fetch, build the graph, first frame).
  await page.goto(`${server.url}/#/flows/small`);
  await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('[data-test="canvas"]')?.dataset.flowId === 'small');
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('[data-test="canvas"]')?.dataset.flowId === 'small');
  const warm = await page.evaluate(
    () =>
      new Promise<{ drawn: number; painted: number }>((resolve) => {
        const start = performance.now();
        window.addEventListener('flowcrew:flow-rendered', (e) => {
          if ((e as CustomEvent).detail.flowId !== 'big') return;
          const drawn = performance.now() - start;
          requestAnimationFrame(() => resolve({ drawn, painted: performance.now() - start }));
        });
        location.hash = '#/flows/big';
      }),
  );

  const pan = async (scale: number | 'fit'): Promise<PanResult> => {
    const cpuBefore = browserCpuMs();
    const result = await panInPage(scale);
    return { ...result, cpuPerFrameMs: (browserCpuMs() - cpuBefore) / Math.max(1, result.frames) };
  };
  const panInPage = (scale: number | 'fit') =>
    page.evaluate(
      ([targetScale, durationMs]) =>
        new Promise<PanResult>((resolve) => {
          const view = (window as any).flowcrew.view;
          const canvas = view.canvas;
          if (targetScale === 'fit') view.fit();
          else {
            canvas.ds.scale = targetScale;
            view.centerOn(4400, 1300);
          }
          // Time litegraph's own drawing, frame by frame.
          const draws: number[] = [];
          const original = canvas.draw.bind(canvas);
          canvas.draw = (...args: unknown[]) => {
            const t = performance.now();
            original(...args);
            draws.push(performance.now() - t);
          };
          let frames = 0;
          const start = performance.now();
          const step = (now: number) => {
            const t = (now - start) / durationMs;
            if (t >= 1) {
              canvas.draw = original;
              const sorted = [...draws].sort((a, b) => a - b);
              resolve({
                fps: frames / ((now - start) / 1000),
                frames,
                drawMeanMs: draws.reduce((a, b) => a + b, 0) / Math.max(1, draws.length),
                drawP95Ms: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
                visibleNodes: canvas.visible_nodes.length,
                scale: canvas.ds.scale,
                cpuPerFrameMs: 0,
              });
              return;
            }
            frames++;
            // A steady sweep left and right, as a user dragging the canvas.
            canvas.ds.offset[0] += Math.sin(t * Math.PI * 4) * 12 / canvas.ds.scale;
            canvas.ds.offset[1] += Math.cos(t * Math.PI * 4) * 6 / canvas.ds.scale;
            canvas.setDirty(true, true);
            requestAnimationFrame(step);
          };
          requestAnimationFrame(step);
        }),
      [scale, PAN_MS] as const,
    );

  const atFit = await pan('fit');
  // --profile: where a frame at 100 % goes (litegraph's parts timed, and a V8 CPU profile of the same pan).
  const parts = profile ? await profileAt100(page, () => pan(1)) : undefined;
  // What the overview drawing looks like (test-artifacts/bench/editor-whole-flow.png).
  if (shot) await screenshot(page, 'bench', 'editor-whole-flow');
  const at100 = await pan(1);
  if (shot) await screenshot(page, 'bench', 'editor-at-100');

  // The same with the mouse: drag the canvas 600 px with 60 intermediate moves, counting drawn frames.
  const box = (await page.locator('[data-test="canvas"]').boundingBox())!;
  const framesBefore = await page.evaluate(() => (window as any).flowcrew.view.canvas.frame as number);
  const mouseStart = Date.now();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 60; i++) await page.mouse.move(box.x + box.width / 2 - i * 10, box.y + box.height / 2 - i * 3);
  await page.mouse.up();
  const mouseMs = Date.now() - mouseStart;
  const mouseFrames = (await page.evaluate(() => (window as any).flowcrew.view.canvas.frame as number)) - framesBefore;

  await context.close();
  return { cold, warm: warm.drawn, warmPainted: warm.painted, atFit, at100, mouseFrames, mouseMs, parts, load };
}

/**
 * Where the time of a frame at 100 % goes: litegraph's drawing parts wrapped with timers (inclusive, nested as listed),
 * then the same pan under V8's sampling profiler (self time by function). Printed with --profile.
 */
async function profileAt100(page: Page, pan: () => Promise<PanResult>): Promise<string> {
  await page.evaluate(() => {
    const view = (window as any).flowcrew.view;
    const canvas = view.canvas;
    const totals: Record<string, number> = {};
    const undo: Array<() => void> = [];
    const wrap = (target: any, name: string, label: string) => {
      const original = target[name];
      if (typeof original !== 'function') return;
      const own = Object.prototype.hasOwnProperty.call(target, name);
      target[name] = function (this: unknown, ...args: unknown[]) {
        const t = performance.now();
        try {
          return original.apply(this, args);
        } finally {
          totals[label] = (totals[label] ?? 0) + performance.now() - t;
        }
      };
      undo.push(() => (own ? (target[name] = original) : delete target[name]));
    };
    wrap(canvas, 'drawBackCanvas', 'back canvas (background, groups, wires)');
    wrap(canvas, 'drawConnections', '  wires');
    wrap(canvas, 'drawFrontCanvas', 'front canvas (nodes)');
    wrap(canvas, 'drawNode', '  node');
    wrap(canvas, 'drawNodeShape', '    box and title bar');
    const nodeProto = Object.getPrototypeOf(view.graph._nodes[0]);
    const baseProto = Object.getPrototypeOf(nodeProto);
    wrap(baseProto, 'drawTitleText', '      title text');
    wrap(baseProto, 'drawTitleBox', '      title box');
    wrap(baseProto, 'drawTitleBarBackground', '      title bar');
    wrap(nodeProto, 'onDrawForeground', '    decorations (detail, buttons, state, status)');
    wrap(baseProto, 'drawSlots', '    ports');
    wrap(baseProto, 'arrange', '    arrange (slot layout)');
    wrap(baseProto, 'drawBadges', '    badges');
    (window as any).__benchParts = { totals, undo };
  });
  const timed = await pan();
  const totals = await page.evaluate(() => {
    const { totals, undo } = (window as any).__benchParts;
    for (const restore of undo.reverse()) restore();
    return totals as Record<string, number>;
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await pan();
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();
  // Self time by function: each sample's time goes to the node (function) on top of the stack.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples?.forEach((id, i) => {
    const dt = (profile.timeDeltas?.[i] ?? 0) / 1000;
    const frame = byId.get(id)!.callFrame;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url ? `${frame.url.split('/').pop()}:${frame.lineNumber + 1}` : ''}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  });
  const frames = Math.max(1, timed.frames);
  const lines = [`where a frame at 100 % goes (${timed.visibleNodes} nodes drawn, ${timed.frames} frames, ms per frame, inclusive):`];
  for (const [label, ms] of Object.entries(totals)) lines.push(`  ${label.padEnd(52)} ${(ms / frames).toFixed(2)}`);
  lines.push(`V8 profile of the same pan, self time (ms, of ${total.toFixed(0)} ms sampled):`);
  for (const [name, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`  ${ms.toFixed(1).padStart(7)}  ${name}`);
  return lines.join('\n');
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const fmt = (n: number, digits = 0) => n.toFixed(digits);

function report(label: string, rounds: Figures[]): void {
  const m = (pick: (f: Figures) => number) => median(rounds.map(pick));
  const list = (pick: (f: Figures) => number, digits = 0) => rounds.map((f) => fmt(pick(f), digits)).join(' ');
  const last = rounds.at(-1)!;
  console.log(`\n${label}: ${NODES} nodes, ${NODES - Math.ceil(NODES / COLUMNS)} wires, Chromium headless without GPU, viewport 1600×1000, median of ${rounds.length} round(s), load ${list((f) => f.load, 1)}`);
  console.log(`open, cold page load → flow drawn:     ${fmt(m((f) => f.cold))} ms   (target < 1000 ms)   [${list((f) => f.cold)}]`);
  console.log(`open, switch to the flow → drawn:      ${fmt(m((f) => f.warm))} ms   (next frame: ${fmt(m((f) => f.warmPainted))} ms)`);
  console.log(`pan, whole flow in view (zoom ${fmt(last.atFit.scale * 100)}%):   ${fmt(m((f) => f.atFit.fps), 1)} fps  (${last.atFit.visibleNodes} nodes drawn; draw mean ${fmt(m((f) => f.atFit.drawMeanMs), 1)} ms, p95 ${fmt(m((f) => f.atFit.drawP95Ms), 1)} ms; browser CPU ${fmt(m((f) => f.atFit.cpuPerFrameMs), 1)} ms/frame [${list((f) => f.atFit.cpuPerFrameMs, 1)}])   (target 60 fps)   [${list((f) => f.atFit.fps, 1)}]`);
  console.log(`pan, at 100% zoom:                     ${fmt(m((f) => f.at100.fps), 1)} fps  (${last.at100.visibleNodes} nodes drawn; draw mean ${fmt(m((f) => f.at100.drawMeanMs), 1)} ms, p95 ${fmt(m((f) => f.at100.drawP95Ms), 1)} ms; browser CPU ${fmt(m((f) => f.at100.cpuPerFrameMs), 1)} ms/frame [${list((f) => f.at100.cpuPerFrameMs, 1)}])   (target 60 fps)   [${list((f) => f.at100.fps, 1)}]`);
  console.log(`pan with the mouse (60 moves):         ${fmt(m((f) => f.mouseFrames))} frames in ${fmt(m((f) => f.mouseMs))} ms`);
  for (const f of rounds) if (f.parts) console.log(f.parts);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const profile = args.includes('--profile');
  const compare = args.includes('--compare') ? args[args.indexOf('--compare') + 1] : undefined;
  const rounds = Number(args.includes('--rounds') ? args[args.indexOf('--rounds') + 1] : compare ? 5 : 1);
  // The working tree by default; a revision instead leaves out uncommitted edits (several people share the tree).
  const currentRev = args.includes('--current') ? args[args.indexOf('--current') + 1] : undefined;
  process.stdout.write('building the editor… ');
  const current = await buildEditor(currentRev);
  const other = compare ? await buildEditor(compare) : undefined;
  console.log('done');
  const builds: Array<{ label: string; server: TestServer; figures: Figures[] }> = [{ label: currentRev ? `at ${currentRev}` : 'current', server: await serve(current.dist), figures: [] }];
  if (other) builds.push({ label: `at ${compare}`, server: await serve(other.dist), figures: [] });
  const browser = await launchBrowser();
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternate which build goes first, so neither always meets the machine in the same state.
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      for (const b of order) b.figures.push(await measure(browser, b.server, round === 0 && b === builds[0], profile && round === 0));
      process.stdout.write(`round ${round + 1}/${rounds} `);
    }
    for (const b of builds) report(`Editor canvas benchmark, ${b.label}`, b.figures);
  } finally {
    await browser.close();
    for (const b of builds) await b.server.stop();
    current.cleanup();
    other?.cleanup();
  }
}

await main();
