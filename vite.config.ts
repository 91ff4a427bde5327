import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

const repoRoot = fileURLToPath(new URL('.', import.meta.url));
const editorRoot = fileURLToPath(new URL('./editor', import.meta.url));

/** Where `npm run dev:editor` forwards API, webhook and Socket.IO traffic (a runtime started with `npm start`). */
const runtimeUrl = process.env.FLOWCREW_URL ?? 'http://127.0.0.1:8420';

// One Vite config for the repo:
// - `vite build` bundles the editor (editor/ → editor/dist), which the runtime serves at /;
// - `vite` serves the editor with hot reload, proxying the API to a running runtime;
// - vitest runs every workspace's tests (placed next to the code they test) as three projects.
export default defineConfig({
  root: editorRoot,
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // litegraph alone is ~600 kB unminified; one chunk per big dependency keeps caching useful.
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks: {
          litegraph: ['@comfyorg/litegraph'],
          codemirror: ['codemirror', '@codemirror/lang-javascript'],
          charts: ['chart.js'],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': runtimeUrl,
      '/webhook': runtimeUrl,
      '/socket.io': { target: runtimeUrl, ws: true },
    },
  },
  test: {
    // Tests are found from the repository root, not from the editor's Vite root.
    root: repoRoot,
    testTimeout: 30_000,
    // Most test files wait on real servers and child processes, not on the CPU: two files at a time keep a 2-core
    // machine busy (vitest's default there is one worker).
    maxWorkers: 2,
    minWorkers: 1,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['runtime/src/**/*.test.ts', 'nodes/*/src/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
        },
      },
      {
        // Component and store tests: a simulated DOM, no server.
        extends: true,
        test: {
          name: 'editor',
          include: ['editor/src/**/*.test.ts'],
          environment: 'happy-dom',
        },
      },
      {
        // Headless Chromium against a real runtime serving the built editor (built once by the global setup).
        extends: true,
        test: {
          name: 'e2e',
          include: ['editor/e2e/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          globalSetup: ['editor/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
