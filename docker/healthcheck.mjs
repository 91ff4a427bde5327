// Container health check (Docker HEALTHCHECK, compose): exit 0 when the runtime answers its health endpoint with 2xx.
// FLOWCREW_HEALTH_URL overrides the URL; default: readiness of the runtime on $PORT (8420) on this host.
const url = process.env.FLOWCREW_HEALTH_URL || `http://127.0.0.1:${process.env.PORT || 8420}/api/v1/health/ready`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) console.error(`${url}: HTTP ${res.status} ${await res.text().catch(() => '')}`.slice(0, 500));
  process.exit(res.ok ? 0 : 1);
} catch (error) {
  console.error(`${url}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
