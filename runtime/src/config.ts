/** Runtime configuration: embedded defaults, overridden by environment variables. */
import path from 'node:path';
import { DEFAULT_MAX_DEPTH } from './flow/json-depth.ts';
import type { RetentionMode, RetentionPolicy } from './storage/types.ts';
import { parseOidcConfig, type OidcConfig } from './identity/oidc-config.ts';
import { AllowList } from './outbound/allow-list.ts';
import { parsePassthrough } from './variables/passthrough.ts';
import { parseClusterConfig, type ClusterConfig } from './cluster/config.ts';
import { parseLogFormat, parseLogLevel, parseLogLevels, type LogFormat, type LogLevel, type LogModule } from './logging/logger.ts';

export interface RuntimeConfig {
  port: number;
  /** 127.0.0.1 by default; 0.0.0.0 is safe to serve a network (every route but health, sign-in and public webhooks needs authentication). */
  host: string;
  /** Where SQLite, the secret key and user node packs live. */
  dataDir: string;
  /** FLOWCREW_KEYRING_FILE: the credential key ring (mode 0600); default `<dataDir>/keyring.json`. */
  keyRingFile?: string;
  /** PostgreSQL connection string; SQLite in dataDir when absent. */
  databaseUrl?: string;
  /** SQLite `synchronous`: NORMAL survives a process kill; FULL also survives power loss, slower. */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** Largest accepted request body (API and webhooks), in bytes-parser notation ('1mb'). */
  bodyLimit: string;
  /** Max size of a message preview pushed over Socket.IO, in characters of JSON. */
  previewChars: number;
  /** Deepest JSON nesting accepted in request bodies, flow documents and node messages. */
  maxDepth: number;
  /** Largest node message (serialised JSON, bytes); a node whose output is larger fails. */
  maxMessageBytes: number;
  /** A node invocation interrupted this many times by the runtime stopping (a crash) fails instead of running again. */
  maxInterruptions: number;
  /** Run leases when runtimes share PostgreSQL (FLOWCREW_INSTANCE_ID, FLOWCREW_LEASE_TTL_MS). */
  cluster: ClusterConfig;
  /** Caps on what one node may keep in context and write to the log (FLOWCREW_CONTEXT_*, FLOWCREW_LOG_*). */
  nodeLimits: NodeLimits;
  retention: RetentionPolicy;
  /** Example/bootstrap flows loaded (once) at start; null to skip. */
  flowsDir: string | null;
  /** Workspace node packs. */
  nodesDir: string;
  /** User node directory (npm packages installed under <dir>/node_modules). */
  userNodesDir: string;
  /** FLOWCREW_NPM_REGISTRY: the npm registry the palette manager searches and installs packs from. */
  npmRegistryUrl: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** FLOWCREW_LOG_LEVELS: level per module ("executor=debug,api=warn"); others log at logLevel. */
  logLevels?: Partial<Record<LogModule, LogLevel>>;
  /** FLOWCREW_LOG_FORMAT: json or pretty; undefined = pretty when stderr is a terminal, else JSON. */
  logFormat?: LogFormat;
  /** FLOWCREW_METRICS*: the Prometheus endpoint /metrics and who may read it. */
  metrics?: MetricsConfig;
  /** Sign-in with an OpenID Connect provider such as Keycloak (FLOWCREW_OIDC_*); null = off. */
  oidc: OidcConfig | null;
  /** Sign-in, sessions, lock-out, API tokens, the bootstrap admin token. */
  auth: AuthConfig;
  /** HTTP guards: Host allow-list, CORS, proxies, rate limits. */
  http: HttpConfig;
  /**
   * FLOWCREW_OUTBOUND_ALLOW: addresses, networks and host names flows may reach although the outbound guard refuses
   * them by default (loopback, private, link-local, metadata...), e.g. "127.0.0.1:9000,10.0.0.0/8,*.internal.example".
   */
  outboundAllow: string[];
  /** FLOWCREW_MCP_SERVERS: the JSON or YAML file declaring the MCP servers flows may start (by name); null = none. */
  mcpServersFile: string | null;
  /**
   * FLOWCREW_ENV_PASSTHROUGH: process environment variables flows may read when their project does not set them
   * (names or NAME_* prefixes, comma-separated); none by default. See docs/environments.md.
   */
  envPassthrough?: string[];
  /** FLOWCREW_GIT_CA_FILE: CA bundle git trusts for HTTPS remotes of Git-backed projects instead of the system's. */
  gitCaFile?: string | null;
  /** FLOWCREW_EDITOR_DIST: serve this build of the editor instead of editor/dist (bench:editor compares two builds). */
  editorDist?: string;
}

export interface MetricsConfig {
  /** FLOWCREW_METRICS (default true): collect metrics and serve /metrics; false = neither (no cost at all). */
  enabled: boolean;
  /** FLOWCREW_METRICS_PUBLIC: /metrics answers anyone (a scrape on a private network); default false. */
  public: boolean;
  /** FLOWCREW_METRICS_TOKEN: a bearer token (16+ characters) that may read /metrics and nothing else. */
  token?: string;
}

export interface NodeLimits {
  /** Largest context value (serialised JSON, bytes). */
  contextValueBytes: number;
  /** Largest total of a flow's context (its flow and node scopes together), and of global context, in bytes. */
  contextScopeBytes: number;
  /** Longest node log message, in characters; longer ones are cut with a note. */
  logMessageChars: number;
  /** Log messages per second a node may write on average (bursts up to ten times that); the rest are dropped and counted. */
  logPerSecond: number;
}

export interface AuthConfig {
  /** FLOWCREW_ADMIN_TOKEN: accepted as an instance-admin bearer token (automation bootstrap); off when unset. */
  adminToken?: string;
  /** Session cookie `Secure` flag: 'auto' = when the request is https. */
  cookieSecure: boolean | 'auto';
  /** Absolute session lifetime and idle timeout, ms. */
  sessionTtlMs: number;
  sessionIdleMs: number;
  /** Failed sign-ins within `lockoutWindowMs` that lock an account, and for how long. */
  lockoutAttempts: number;
  lockoutWindowMs: number;
  lockoutMs: number;
  /** Failed sign-ins from one IP (any account) within the window that block that IP for `lockoutMs`. */
  lockoutIpAttempts: number;
  /** Default lifetime of a new API token, ms; 0 = no expiry unless the creator sets one. */
  tokenTtlMs: number;
}

export interface RateLimit {
  /** Requests per window per client; 0 = no limit. */
  max: number;
  windowMs: number;
}

export interface HttpConfig {
  /** FLOWCREW_ALLOWED_HOSTS: Host names accepted (DNS-rebinding guard); null = the loopback default when bound to loopback. */
  allowedHosts: string[] | null;
  /** FLOWCREW_CORS_ORIGINS: origins allowed cross-origin (CORS off when empty); also accepted by the Origin check. */
  corsOrigins: string[];
  /** Express `trust proxy` (FLOWCREW_TRUST_PROXY): hops or addresses whose X-Forwarded-* headers are believed. */
  trustProxy: boolean | number | string;
  rateLimit: { login: RateLimit; api: RateLimit; webhook: RateLimit };
  /** FLOWCREW_REDIS_URL: shared rate-limit store across processes (not used yet: limits are per process). */
  redisUrl?: string;
}

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

function parseRetentionMode(value: string | undefined): RetentionMode {
  if (value === undefined || value === '') return 'all';
  if (value === 'all' || value === 'failed' || value === 'none') return value;
  throw new Error(`FLOWCREW_RETENTION must be all, failed or none (got "${value}")`);
}

function parseList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function parseBoolean(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${name} must be true or false (got "${value}")`);
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === '' || /^(0|false|no|off)$/i.test(value)) return false;
  if (/^(true|yes|on)$/i.test(value)) return true;
  return /^\d+$/.test(value) ? Number(value) : value; // hop count, or addresses/subnets as Express reads them
}

function parseAdminToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  // It is an instance-admin password for scripts: a short one would be guessable.
  if (value.length < 16) throw new Error('FLOWCREW_ADMIN_TOKEN must be at least 16 characters (use a long random value)');
  return value;
}

function parseSecretToken(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length < 16) throw new Error(`${name} must be at least 16 characters (use a long random value)`);
  return value;
}

function parseInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative integer (got "${value}")`);
  return parsed;
}

function atLeastOne(name: string, value: number): number {
  if (value < 1) throw new Error(`${name} must be at least 1 (got ${value})`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const dataDir = path.resolve(overrides.dataDir ?? env.FLOWCREW_DATA_DIR ?? '.flowcrew');
  const sync = (env.FLOWCREW_SQLITE_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (sync !== 'NORMAL' && sync !== 'FULL') throw new Error(`FLOWCREW_SQLITE_SYNCHRONOUS must be NORMAL or FULL (got "${sync}")`);
  const logLevel = parseLogLevel('FLOWCREW_LOG_LEVEL', env.FLOWCREW_LOG_LEVEL, 'info');
  return {
    port: parseInteger('PORT', env.PORT, 8420),
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    keyRingFile: env.FLOWCREW_KEYRING_FILE ? path.resolve(env.FLOWCREW_KEYRING_FILE) : undefined,
    sqliteSynchronous: sync,
    bodyLimit: env.FLOWCREW_BODY_LIMIT ?? '1mb',
    previewChars: parseInteger('FLOWCREW_PREVIEW_CHARS', env.FLOWCREW_PREVIEW_CHARS, 2048),
    maxDepth: atLeastOne('FLOWCREW_MAX_DEPTH', parseInteger('FLOWCREW_MAX_DEPTH', env.FLOWCREW_MAX_DEPTH, DEFAULT_MAX_DEPTH)),
    maxMessageBytes: atLeastOne('FLOWCREW_MAX_MESSAGE_BYTES', parseInteger('FLOWCREW_MAX_MESSAGE_BYTES', env.FLOWCREW_MAX_MESSAGE_BYTES, 16 * 1024 * 1024)),
    maxInterruptions: atLeastOne('FLOWCREW_MAX_INTERRUPTIONS', parseInteger('FLOWCREW_MAX_INTERRUPTIONS', env.FLOWCREW_MAX_INTERRUPTIONS, 3)),
    cluster: parseClusterConfig(env, dataDir),
    nodeLimits: {
      contextValueBytes: atLeastOne('FLOWCREW_CONTEXT_VALUE_MAX_KB', parseInteger('FLOWCREW_CONTEXT_VALUE_MAX_KB', env.FLOWCREW_CONTEXT_VALUE_MAX_KB, 1024)) * 1024,
      contextScopeBytes: atLeastOne('FLOWCREW_CONTEXT_MAX_MB', parseInteger('FLOWCREW_CONTEXT_MAX_MB', env.FLOWCREW_CONTEXT_MAX_MB, 16)) * 1048576,
      logMessageChars: atLeastOne('FLOWCREW_LOG_MESSAGE_MAX_CHARS', parseInteger('FLOWCREW_LOG_MESSAGE_MAX_CHARS', env.FLOWCREW_LOG_MESSAGE_MAX_CHARS, 8192)),
      logPerSecond: atLeastOne('FLOWCREW_LOG_PER_SECOND', parseInteger('FLOWCREW_LOG_PER_SECOND', env.FLOWCREW_LOG_PER_SECOND, 20)),
    },
    retention: {
      mode: parseRetentionMode(env.FLOWCREW_RETENTION),
      // 0 keeps finished runs for ever; by default they go after 30 days so history cannot grow without bound.
      maxAgeMs: parseInteger('FLOWCREW_RETENTION_MAX_AGE_DAYS', env.FLOWCREW_RETENTION_MAX_AGE_DAYS, 30) * 86_400_000,
    },
    flowsDir: env.FLOWCREW_FLOWS_DIR === '' ? null : path.resolve(env.FLOWCREW_FLOWS_DIR ?? path.join(repoRoot, 'flows')),
    nodesDir: path.join(repoRoot, 'nodes'),
    userNodesDir: path.resolve(env.FLOWCREW_USER_NODES_DIR ?? path.join(dataDir, 'nodes')),
    npmRegistryUrl: env.FLOWCREW_NPM_REGISTRY || 'https://registry.npmjs.org/',
    logLevel,
    logLevels: parseLogLevels(env.FLOWCREW_LOG_LEVELS),
    logFormat: parseLogFormat(env.FLOWCREW_LOG_FORMAT),
    metrics: {
      enabled: parseBoolean('FLOWCREW_METRICS', env.FLOWCREW_METRICS, true),
      public: parseBoolean('FLOWCREW_METRICS_PUBLIC', env.FLOWCREW_METRICS_PUBLIC, false),
      token: parseSecretToken('FLOWCREW_METRICS_TOKEN', env.FLOWCREW_METRICS_TOKEN),
    },
    oidc: parseOidcConfig(env),
    // Parsed here so a bad entry stops the start with the entry named.
    outboundAllow: AllowList.parse(env.FLOWCREW_OUTBOUND_ALLOW).entries.map((e) => e.text),
    mcpServersFile: env.FLOWCREW_MCP_SERVERS ? path.resolve(env.FLOWCREW_MCP_SERVERS) : null,
    envPassthrough: parsePassthrough(env.FLOWCREW_ENV_PASSTHROUGH),
    gitCaFile: env.FLOWCREW_GIT_CA_FILE ? path.resolve(env.FLOWCREW_GIT_CA_FILE) : null,
    editorDist: env.FLOWCREW_EDITOR_DIST ? path.resolve(env.FLOWCREW_EDITOR_DIST) : undefined,
    auth: {
      adminToken: parseAdminToken(env.FLOWCREW_ADMIN_TOKEN),
      cookieSecure: env.FLOWCREW_COOKIE_SECURE === undefined || env.FLOWCREW_COOKIE_SECURE === '' || env.FLOWCREW_COOKIE_SECURE === 'auto'
        ? 'auto'
        : parseBoolean('FLOWCREW_COOKIE_SECURE', env.FLOWCREW_COOKIE_SECURE, false),
      sessionTtlMs: parseInteger('FLOWCREW_SESSION_HOURS', env.FLOWCREW_SESSION_HOURS, 12) * 3_600_000,
      sessionIdleMs: parseInteger('FLOWCREW_SESSION_IDLE_MINUTES', env.FLOWCREW_SESSION_IDLE_MINUTES, 120) * 60_000,
      lockoutAttempts: parseInteger('FLOWCREW_LOCKOUT_ATTEMPTS', env.FLOWCREW_LOCKOUT_ATTEMPTS, 5),
      lockoutWindowMs: parseInteger('FLOWCREW_LOCKOUT_MINUTES', env.FLOWCREW_LOCKOUT_MINUTES, 15) * 60_000,
      lockoutMs: parseInteger('FLOWCREW_LOCKOUT_MINUTES', env.FLOWCREW_LOCKOUT_MINUTES, 15) * 60_000,
      lockoutIpAttempts: parseInteger('FLOWCREW_LOCKOUT_IP_ATTEMPTS', env.FLOWCREW_LOCKOUT_IP_ATTEMPTS, 50),
      tokenTtlMs: parseInteger('FLOWCREW_TOKEN_TTL_DAYS', env.FLOWCREW_TOKEN_TTL_DAYS, 90) * 86_400_000,
    },
    http: {
      allowedHosts: env.FLOWCREW_ALLOWED_HOSTS ? parseList(env.FLOWCREW_ALLOWED_HOSTS) : null,
      corsOrigins: parseList(env.FLOWCREW_CORS_ORIGINS),
      trustProxy: parseTrustProxy(env.FLOWCREW_TRUST_PROXY),
      rateLimit: {
        login: { max: parseInteger('FLOWCREW_RATE_LIMIT_LOGIN', env.FLOWCREW_RATE_LIMIT_LOGIN, 10), windowMs: 60_000 },
        api: { max: parseInteger('FLOWCREW_RATE_LIMIT_API', env.FLOWCREW_RATE_LIMIT_API, 6000), windowMs: 60_000 },
        webhook: { max: parseInteger('FLOWCREW_RATE_LIMIT_WEBHOOK', env.FLOWCREW_RATE_LIMIT_WEBHOOK, 0), windowMs: 60_000 },
      },
      redisUrl: env.FLOWCREW_REDIS_URL || undefined,
    },
    ...overrides,
  };
}
