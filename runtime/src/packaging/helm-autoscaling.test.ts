/**
 * The Helm chart's worker autoscaling, rendered by the real helm CLI (built by `bash scripts/services helm` from the
 * Go module proxy; skipped with the reason without it): by default an autoscaling/v2 HPA on the External queue-depth
 * metric; with worker.autoscaling.keda.enabled a KEDA ScaledObject with a Prometheus trigger on the queue depth
 * instead (never both: KEDA owns the HPA it makes); off, a fixed replica count. Mains and workers run non-root on a
 * read-only root filesystem. (queue-mode-observability.test.ts checks the metric both query is exported.)
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const chart = path.join(repoRoot, 'docker', 'helm', 'flowcrew');
const helmBin = [path.join(repoRoot, '.cache', 'go-helm', 'bin', 'helm'), 'helm'].find((bin) => (bin.includes('/') ? existsSync(bin) : true));
const helm = helmBin ? await run(helmBin, ['version', '--short']).then(() => helmBin, () => null) : null;
if (!helm) console.warn('SKIPPED helm autoscaling renders: no helm CLI (bash scripts/services helm builds it from the Go module proxy)');

const required = ['--set', 'secrets.flowcrewSecret=s3cret-value-for-the-test', '--set', 'secrets.metricsToken=token-0123456789abcdef', '--set', 'database.url=postgres://u:p@db:5432/flowcrew', '--set', 'redis.url=redis://redis:6379'];
type Doc = { kind: string; metadata: { name: string }; spec: any };
async function render(...set: string[]): Promise<Doc[]> {
  const { stdout } = await run(helm!, ['template', 'fc', chart, ...required, ...set.flatMap((s) => ['--set', s])]);
  return YAML.parseAllDocuments(stdout).map((d) => d.toJS()).filter(Boolean) as Doc[];
}
const values = YAML.parse(readFileSync(path.join(chart, 'values.yaml'), 'utf8')) as { worker: { autoscaling: { minReplicas: number; maxReplicas: number; targetWaitingPerPod: number; keda: { query: string } } } };

describe.skipIf(!helm)('docker/helm/flowcrew worker autoscaling (helm template)', () => {
  it('by default: an HPA on the External queue-depth metric, no ScaledObject; pods non-root on a read-only root filesystem', async () => {
    const docs = await render();
    expect(docs.filter((d) => d.kind === 'ScaledObject')).toEqual([]);
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'fc-flowcrew-worker' });
    expect(hpa.spec.metrics[0]).toMatchObject({ type: 'External', external: { metric: { name: 'flowcrew_queue_waiting_jobs' }, target: { type: 'AverageValue' } } });
    for (const name of ['fc-flowcrew-main', 'fc-flowcrew-worker']) {
      const pod = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name)!.spec.template.spec;
      expect(pod.containers[0].securityContext, name).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(pod.securityContext.runAsNonRoot ?? pod.containers[0].securityContext.runAsNonRoot, name).toBe(true);
    }
  });

  it('with keda.enabled: a ScaledObject with a Prometheus trigger on the queue depth instead of the HPA', async () => {
    const keda = ['worker.autoscaling.keda.enabled=true', 'worker.autoscaling.keda.serverAddress=http://prometheus.monitoring:9090'];
    await run(helm!, ['lint', '--strict', chart, ...required, ...keda.flatMap((s) => ['--set', s])]);
    const docs = await render(...keda);
    expect(docs.filter((d) => d.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    const scaled = docs.find((d) => d.kind === 'ScaledObject')!;
    expect(scaled.spec).toEqual({
      scaleTargetRef: { name: 'fc-flowcrew-worker' },
      minReplicaCount: values.worker.autoscaling.minReplicas,
      maxReplicaCount: values.worker.autoscaling.maxReplicas,
      triggers: [{ type: 'prometheus', metadata: { serverAddress: 'http://prometheus.monitoring:9090', query: values.worker.autoscaling.keda.query, threshold: String(values.worker.autoscaling.targetWaitingPerPod) } }],
    });
    // The worker Deployment leaves the replica count to KEDA.
    expect(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'fc-flowcrew-worker')!.spec.replicas).toBeUndefined();
  });

  it('with autoscaling off: neither, and a fixed worker replica count', async () => {
    const docs = await render('worker.autoscaling.enabled=false');
    expect(docs.filter((d) => d.kind === 'HorizontalPodAutoscaler' || d.kind === 'ScaledObject')).toEqual([]);
    expect(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'fc-flowcrew-worker')!.spec.replicas).toBe(values.worker.autoscaling.minReplicas);
  });
});
