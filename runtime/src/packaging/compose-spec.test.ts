/**
 * docker/compose.yaml loaded by compose-go, the Compose specification's reference loader that `docker compose config`
 * uses (no Docker engine here): docker/tools/compose-check is built from the Go module proxy on first use (~25 s of
 * CPU, cached in .cache/compose-check by the hash of its sources). The file passes the specification's schema,
 * interpolates, and resolves to mains and workers that run hardened; a required variable left out fails the load
 * with its own message.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const docker = path.join(repoRoot, 'docker');
const composeFile = path.join(docker, 'compose.yaml');
const toolDir = path.join(docker, 'tools', 'compose-check');

const go = await run('go', ['version']).then(
  () => 'go',
  () => (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null),
);
if (!go) console.warn('SKIPPED compose-go validation of docker/compose.yaml: no Go toolchain to build docker/tools/compose-check');

/** The variables compose.yaml requires (${VAR:?message}), read from the file itself. */
const required = [...new Set([...readFileSync(composeFile, 'utf8').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!))];

/** The compose-check binary for the current sources, built once (a fresh clone builds it in its own .cache). */
async function composeCheck(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(path.join(toolDir, file)));
  const bin = path.join(repoRoot, '.cache', 'compose-check', hash.digest('hex').slice(0, 12), 'compose-check');
  if (!existsSync(bin)) {
    await run(go!, ['build', '-trimpath', '-o', bin, '.'], { cwd: toolDir, env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly -buildvcs=false' }, maxBuffer: 10 << 20 });
  }
  return bin;
}

interface ComposeService {
  read_only?: boolean;
  command?: string[];
  volumes?: Array<{ type: string; source?: string; target: string; read_only?: boolean }>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

describe.skipIf(!go)('docker/compose.yaml through compose-go (the `docker compose config` loader)', () => {
  let bin: string;
  const env = Object.fromEntries(required.map((name) => [name, `value-of-${name.toLowerCase()}`]));
  beforeAll(async () => {
    bin = await composeCheck();
  }, 300_000);

  it('loads: schema-valid, interpolated, every service and volume it references defined', async () => {
    expect(required).toEqual(expect.arrayContaining(['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'FLOWCREW_SECRET', 'FLOWCREW_METRICS_TOKEN']));
    const { stdout } = await run(bin, [composeFile], { env: { PATH: process.env.PATH, ...env }, maxBuffer: 10 << 20 });
    const project = JSON.parse(stdout) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
    expect(Object.keys(project.services).sort()).toEqual(['flowcrew', 'grafana', 'keycloak', 'kong', 'postgres', 'prometheus', 'redis', 'worker']);
    const { flowcrew, worker } = project.services as Record<'flowcrew' | 'worker', ComposeService>;
    expect(flowcrew.command).toEqual(['start', '--mode', 'main']);
    expect(worker.command!.slice(0, 2)).toEqual(['worker', '--concurrency']);
    for (const [name, service] of [['flowcrew', flowcrew], ['worker', worker]] as const) {
      // Read-only root filesystem: writes go to a tmpfs /tmp and the /data volume only.
      expect(service.read_only, name).toBe(true);
      expect(service.volumes!.map((v) => `${v.type}:${v.target}`).sort(), name).toEqual(['tmpfs:/tmp', 'volume:/data']);
      expect(service.healthcheck!.test.join(' '), name).toContain('node docker/healthcheck.mjs');
      expect(Object.keys(service.depends_on ?? {}).sort(), name).toEqual(['postgres', 'redis']);
    }
    // Interpolated as a deployment would be: the password reaches the URLs.
    expect(JSON.stringify(flowcrew)).toContain('value-of-postgres_password@postgres:5432');
    // Every bind mount names a file or directory in docker/.
    for (const [name, service] of Object.entries(project.services)) {
      for (const v of service.volumes ?? []) if (v.type === 'bind') expect(existsSync(path.resolve(docker, v.source!)), `${name}: ${v.source}`).toBe(true);
    }
  });

  it('refuses to load without a required variable, naming it and saying what it is for', async () => {
    const { FLOWCREW_SECRET: _left, ...without } = env;
    const failed = await run(bin, [composeFile], { env: { PATH: process.env.PATH, ...without } }).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/required variable FLOWCREW_SECRET is missing a value: set FLOWCREW_SECRET \(credential encryption key\)/);
  });

  it('every variable it requires is explained in docs/deploy.md', () => {
    const deploy = readFileSync(path.join(repoRoot, 'docs', 'deploy.md'), 'utf8');
    expect(required.filter((name) => !deploy.includes(name))).toEqual([]);
  });
});
