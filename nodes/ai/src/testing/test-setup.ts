/**
 * Test support: the setup test files share (vitest hooks, so call these at the top level of a test file).
 * Kept apart from fake-model-server.ts, which benchmarks import without vitest.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { closeTestServices, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import type { DeclaredMcpServers, McpServerLaunch, OutboundServices } from '@flowcrew/sdk';
import { disposeLocalModels } from '../providers/local-llama.ts';
import { startFakeModelServer, type FakeReply, type FakeServer, type RecordedRequest } from './fake-model-server.ts';

export interface FakeModelServers {
  /** Start a fake model server (see startFakeModelServer); it is closed after the test. */
  start(answer: (request: RecordedRequest, index: number) => FakeReply | Promise<FakeReply>): Promise<FakeServer>;
  /** The server the running test started last. */
  readonly current: FakeServer;
}

/**
 * The runtime's real outbound guard with loopback allow-listed explicitly (the fake servers listen on 127.0.0.1,
 * which the guard refuses by default). Closed after the file.
 */
export function loopbackOutbound(): OutboundServices {
  const guard = createOutboundGuard({ allow: ['127.0.0.1'] });
  afterAll(() => guard.close());
  return guard;
}

/**
 * MCP servers as an administrator would declare them (RuntimeServices.mcpServers), for node tests: name → how to
 * start it. The runtime's own implementation (runtime/src/mcp/declared-servers.ts) reads them from a file and the vault.
 */
export function declaredServers(launches: Record<string, Omit<McpServerLaunch, 'name' | 'secrets' | 'env'> & { env?: Record<string, string>; secrets?: string[] }>): DeclaredMcpServers {
  return {
    names: () => Object.keys(launches),
    async resolve(name) {
      const launch = launches[name];
      if (!launch) throw new Error(`MCP server "${name}" is not declared`);
      return { name, env: {}, secrets: [], ...launch };
    },
  };
}

/** Fake model servers, each closed after the test that started it. */
export function fakeModelServers(): FakeModelServers {
  const started: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()));
  });
  return {
    async start(answer) {
      const server = await startFakeModelServer(answer);
      started.push(server);
      return server;
    },
    get current() {
      const server = started.at(-1);
      if (!server) throw new Error('no fake model server started in this test');
      return server;
    },
  };
}

/**
 * For tests of the node types, created with the SDK's test harness: outbound requests may reach loopback (the fake
 * servers) and nothing else inside; the vector store is the embedded one, in memory
 * (the harness's dataDir is ':memory:') whatever the environment says; what nodes share (vector stores and MCP
 * clients, through the harness's pooled resources; loaded local models) is released after the file, and the
 * environment restored.
 */
export function setUpNodeTests(): FakeModelServers {
  const saved = { ...process.env };
  setTestServiceDefaults({ outbound: loopbackOutbound() });
  beforeAll(() => {
    delete process.env.DATABASE_URL;
    delete process.env.FLOWCREW_VECTOR_DATABASE_URL;
    delete process.env.FLOWCREW_VECTOR_SQLITE_PATH;
  });
  afterAll(async () => {
    await closeTestServices();
    await disposeLocalModels();
    process.env = saved;
  });
  return fakeModelServers();
}
