/**
 * docker/'s production packaging, checked without a Docker engine (none runs here): the compose file, the Kong
 * declarative config and the Helm chart parse and reference only files and commands that exist; the chart renders
 * with `helm lint`/`helm template` when the helm CLI is installed (scripts/services.d/helm.sh).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const docker = path.join(repoRoot, 'docker');
const read = (file: string) => readFileSync(path.join(docker, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  volumes?: Array<string | { type: string; source?: string; target: string }>;
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, unknown>;
}
const compose = YAML.parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

describe('docker/compose.yaml (production, queue mode)', () => {
  const services = compose.services;

  it('runs mains and workers with the queue-mode commands on PostgreSQL 17 + pgvector, Redis 7.4, Kong 3.9, Keycloak 26', () => {
    expect(services.flowcrew!.command).toEqual(['start', '--mode', 'main']);
    expect(services.worker!.command!.slice(0, 2)).toEqual(['worker', '--concurrency']);
    expect(services.postgres!.image).toBe('pgvector/pgvector:pg17');
    expect(services.redis!.image).toBe('redis:7.4');
    expect(services.kong!.image).toBe('kong:3.9');
    expect(services.keycloak!.image).toMatch(/^quay\.io\/keycloak\/keycloak:26\./);
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['prometheus', 'grafana']));
    for (const role of ['flowcrew', 'worker']) {
      const env = services[role]!.environment!;
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(env.FLOWCREW_REDIS_URL).toMatch(/@redis:6379$/);
      expect(env.FLOWCREW_SECRET).toBeTruthy();
    }
  });

  it('references only files that exist, volumes it declares and services it defines', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) {
        expect(existsSync(path.resolve(docker, service.build.context, service.build.dockerfile)), `${name}: dockerfile`).toBe(true);
      }
      for (const volume of service.volumes ?? []) {
        if (typeof volume !== 'string') continue;
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(path.resolve(docker, source)), `${name}: ${source}`).toBe(true);
        else expect(compose.volumes, `${name}: volume ${source}`).toHaveProperty(source);
      }
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(services, `${name} depends on ${dep}`).toHaveProperty(dep);
    }
  });

  it('the commands it runs are the CLI commands and options as they are now', () => {
    // Read from the CLI's source: spawning `--help` costs ~5 s of tsx start-up (entrypoint.test.ts runs the real thing).
    const cli = (file: string) => readFileSync(path.join(repoRoot, 'runtime', 'src', 'cli', file), 'utf8');
    expect(cli('main.ts')).toMatch(/\.command\('start'\)[\s\S]*?\.option\('--mode <mode>'/);
    expect(cli('worker.ts')).toMatch(/\.command\('worker'\)[\s\S]*?\.option\('-c, --concurrency <n>'/);
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const final = stages.at(-1)!;

  it('is multi-stage; the final stage takes production dependencies only and runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(final).toMatch(/COPY --from=deps /);
    expect(final).not.toMatch(/npm ci(?! --omit=dev)/);
    const user = final.match(/^USER (\S+)/m)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    // Read-only root filesystem: everything written goes to these volumes.
    expect(final).toMatch(/VOLUME \["\/data", "\/tmp"\]/);
    expect(final).toMatch(/FLOWCREW_DATA_DIR=\/data/);
  });

  it('its entrypoint, command and health check name files in the repository', () => {
    const entrypoint = JSON.parse(final.match(/^ENTRYPOINT (.*)$/m)![1]!) as string[];
    const health = JSON.parse(final.match(/^HEALTHCHECK .* CMD (.*)$/m)![1]!) as string[];
    // The compiled CLI is made in the image (deps stage); its TypeScript source is in the repository.
    const compiled = entrypoint.at(-1)!.match(/^dist\/compiled\/current\/(.*)\.js$/)?.[1];
    expect(compiled, entrypoint.join(' ')).toBeDefined();
    expect(existsSync(path.join(repoRoot, `${compiled}.ts`))).toBe(true);
    expect(existsSync(path.join(repoRoot, health.at(-1)!))).toBe(true);
    expect(existsSync(path.join(docker, 'Dockerfile.dockerignore'))).toBe(true);
  });

  it('runs the compiled JavaScript as `npm start` does, compiled on production dependencies only, never through tsx', () => {
    const scripts = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const entrypoint = JSON.parse(final.match(/^ENTRYPOINT (.*)$/m)![1]!) as string[];
    // `npm start` ends with `node <compiled main.js> start`: the image's entrypoint is the same command.
    expect(scripts.start).toContain(`&& ${entrypoint.join(' ')} start`);
    expect(entrypoint.join(' ')).not.toMatch(/tsx|\.ts$/);
    // The stage that compiles installs production dependencies only, and runs the compile script npm start runs.
    const deps = stages.find((stage) => /^\S+ AS deps$/m.test(stage))!;
    expect(deps).toMatch(/npm ci --omit=dev/);
    expect(deps).toContain(scripts.compile);
    // The final stage takes /app from that stage and only the editor bundle from the stage with dev dependencies.
    expect(final).toMatch(/^COPY --from=deps .* \/app \/app$/m);
    for (const copy of final.match(/^COPY --from=build .*$/gm) ?? []) expect(copy).toMatch(/ \/app\/editor\/dist \/app\/editor\/dist$/);
    // Local builds (links into the developer's checkout) stay out of the build context.
    expect(read('Dockerfile.dockerignore').split('\n')).toContain('dist');
  });
});

/** Plugins bundled with Kong Gateway 3.9 (OSS) that this config may use, with the config fields each accepts. */
const KONG_PLUGINS: Record<string, { fields: string[]; check?: (config: Record<string, unknown>) => string | null }> = {
  'key-auth': { fields: ['key_names', 'hide_credentials', 'anonymous', 'key_in_header', 'key_in_query', 'key_in_body', 'run_on_preflight', 'realm'] },
  'rate-limiting': {
    fields: ['second', 'minute', 'hour', 'day', 'month', 'year', 'limit_by', 'policy', 'fault_tolerant', 'hide_client_headers', 'header_name', 'path', 'redis', 'error_code', 'error_message', 'sync_rate'],
    // Kong's schema: at least one of the limits.
    check: (c) => (['second', 'minute', 'hour', 'day', 'month', 'year'].some((k) => typeof c[k] === 'number') ? null : 'needs a limit (second, minute, ...)'),
  },
};

describe('docker/kong/kong.yml (DB-less declarative config)', () => {
  const kong = YAML.parse(read('kong/kong.yml')) as {
    _format_version: string;
    services: Array<{ name: string; url: string; routes: Array<{ name: string; paths: string[]; plugins?: Array<{ name: string; config: Record<string, unknown> }> }> }>;
    consumers: Array<{ username: string; keyauth_credentials: Array<{ key: string }> }>;
  };

  it('has the 3.0 format, services with an upstream URL, named routes with paths, known plugins with known fields', () => {
    expect(kong._format_version).toBe('3.0');
    const allowedTop = ['_format_version', '_transform', 'services', 'routes', 'plugins', 'consumers', 'upstreams', 'certificates'];
    for (const key of Object.keys(kong)) expect(allowedTop, `top-level key ${key}`).toContain(key);
    for (const service of kong.services) {
      expect(service.name).toMatch(/^[\w.~-]+$/);
      const url = new URL(service.url);
      // The upstream is the mains' compose service on the runtime's port.
      expect([url.hostname, url.port]).toEqual(['flowcrew', '8420']);
      for (const route of service.routes) {
        expect(route.name).toBeTruthy();
        expect(route.paths.every((p) => p.startsWith('/'))).toBe(true);
        for (const plugin of route.plugins ?? []) {
          const known = KONG_PLUGINS[plugin.name];
          expect(known, `plugin ${plugin.name}`).toBeDefined();
          for (const field of Object.keys(plugin.config)) expect(known!.fields, `${plugin.name}.${field}`).toContain(field);
          expect(known!.check?.(plugin.config) ?? null).toBeNull();
        }
      }
    }
  });

  it('puts key auth and rate limiting on /api, and the key the compose file substitutes on a consumer', () => {
    const api = kong.services.flatMap((s) => s.routes).find((r) => r.paths.includes('/api'))!;
    expect(api.plugins!.map((p) => p.name).sort()).toEqual(['key-auth', 'rate-limiting']);
    const key = kong.consumers[0]!.keyauth_credentials[0]!.key;
    const entrypoint = compose.services.kong!.entrypoint!.join(' ');
    expect(entrypoint).toContain(`s|${key}|`);
    const mounted = compose.services.kong!.volumes!.find((v): v is string => typeof v === 'string' && v.startsWith('./kong/kong.yml:'))!;
    expect(entrypoint).toContain(mounted.split(':')[1]);
    expect(entrypoint).toContain(`> ${compose.services.kong!.environment!.KONG_DECLARATIVE_CONFIG}`);
  });
});

const chart = path.join(docker, 'helm', 'flowcrew');
const helmBin = [path.join(repoRoot, '.cache', 'go-helm', 'bin', 'helm'), 'helm'].find((bin) => (bin.includes('/') ? existsSync(bin) : true));
const helm = helmBin ? await run(helmBin, ['version', '--short']).then(() => helmBin, () => null) : null;
if (!helm) console.warn('SKIPPED helm lint/template: no helm CLI (bash scripts/services helm builds it from the Go module proxy)');

describe('docker/helm/flowcrew', () => {
  const values = YAML.parse(readFileSync(path.join(chart, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const templates = readdirSync(path.join(chart, 'templates')).map((f) => readFileSync(path.join(chart, 'templates', f), 'utf8'));

  it('Chart.yaml and values.yaml parse; every .Values path and include the templates use exists', () => {
    expect(YAML.parse(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8'))).toMatchObject({ apiVersion: 'v2', name: 'flowcrew' });
    const text = templates.join('\n');
    for (const [, ref] of text.matchAll(/\.Values\.([\w.]+)/g)) {
      let node: unknown = values;
      for (const part of ref!.split('.')) {
        expect(node, `.Values.${ref}`).toHaveProperty(part);
        node = (node as Record<string, unknown>)[part];
      }
    }
    const defined = new Set([...text.matchAll(/define "([^"]+)"/g)].map((m) => m[1]));
    for (const [, name] of text.matchAll(/include "([^"]+)"/g)) expect(defined, `include ${name}`).toContain(name);
  });

  it.skipIf(!helm)('passes helm lint and renders mains, workers with a queue-depth HPA, config and secrets', async () => {
    const set = ['--set', 'secrets.flowcrewSecret=s3cret-value-for-the-test', '--set', 'secrets.metricsToken=token-0123456789abcdef', '--set', 'database.url=postgres://u:p@db:5432/flowcrew', '--set', 'redis.url=redis://redis:6379'];
    await run(helm!, ['lint', '--strict', chart, ...set]);
    const { stdout } = await run(helm!, ['template', 'fc', chart, ...set]);
    const docs = YAML.parseAllDocuments(stdout).map((d) => d.toJS()).filter(Boolean) as Array<{ kind: string; metadata: { name: string }; spec: any }>;
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual(
      ['ConfigMap/fc-flowcrew-config', 'Deployment/fc-flowcrew-main', 'Deployment/fc-flowcrew-worker', 'HorizontalPodAutoscaler/fc-flowcrew-worker', 'Secret/fc-flowcrew-secrets', 'Service/fc-flowcrew'].sort(),
    );
    const container = (name: string) => docs.find((d) => d.metadata.name === name)!.spec.template.spec.containers[0];
    expect(container('fc-flowcrew-main').args).toEqual(['start', '--mode', 'main']);
    expect(container('fc-flowcrew-worker').args).toEqual(['worker', '--concurrency', '10']);
    expect(container('fc-flowcrew-worker').securityContext.readOnlyRootFilesystem).toBe(true);
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.metrics[0].external.metric.name).toBe(values.worker && (values.worker as any).autoscaling.metricName);
    // A required secret left out fails the render with a message that names it.
    await expect(run(helm!, ['template', 'fc', chart])).rejects.toThrow(/secrets\.flowcrewSecret/);
  }, 60_000);
});
