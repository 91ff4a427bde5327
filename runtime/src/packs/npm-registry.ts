/**
 * The npm registry's HTTP API as the palette manager reads it: search by keyword (`flowcrew-nodes`), and a package's
 * versions, readme, licence and Flowcrew manifest (so an admin sees "needs a newer SDK" before installing). The
 * registry is the one the administrator configured (FLOWCREW_NPM_REGISTRY), not a destination a flow chooses, so it
 * is fetched directly, as npm itself connects to it.
 */
import { SDK_API_VERSION } from '@flowcrew/sdk';

/** The keyword every Flowcrew node pack lists in its package.json. */
export const PACK_KEYWORD = 'flowcrew-nodes';

/** npm's own package name rule (lower case, url-safe, optional @scope/), enforced before any request or npm command. */
const NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
/** A version or dist-tag: what may follow `name@` on npm's command line, and nothing that could be an option. */
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+\-^~<>=| ]{0,63}$/;

export function validPackName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 214 && NAME.test(name);
}

export function validVersionSpec(spec: unknown): spec is string {
  return typeof spec === 'string' && VERSION.test(spec);
}

export interface CatalogEntry {
  name: string;
  version: string;
  description?: string;
  keywords: string[];
  date?: string;
  publisher?: string;
  links?: Record<string, string>;
}

export interface PackVersionInfo {
  version: string;
  /** The SDK API the version needs (package.json flowcrew.sdkApi; 1 when absent), and whether this runtime has it. */
  sdkApi: number;
  compatible: boolean;
  /** Whether this version declares a `flowcrew` field at all (a package that is not a node pack cannot be installed). */
  isPack: boolean;
  deprecated?: string;
}

export interface PackDetails {
  name: string;
  description?: string;
  license?: string;
  readme: string;
  distTags: Record<string, string>;
  latest?: string;
  versions: PackVersionInfo[];
  time?: Record<string, string>;
}

/** The registry could not be asked (down, refused, timed out): a 502 for API callers. */
export class RegistryUnavailableError extends Error {
  constructor(registry: string, cause: unknown) {
    super(`the npm registry ${registry} could not be reached: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'RegistryUnavailableError';
  }
}

export class NpmRegistry {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 15_000,
  ) {}

  private async get(path: string): Promise<Response> {
    const target = new URL(path, this.url.endsWith('/') ? this.url : `${this.url}/`);
    try {
      return await fetch(target, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new RegistryUnavailableError(this.url, (error as Error).cause ?? error);
    }
  }

  /** Packs whose package.json lists the `flowcrew-nodes` keyword, matching `text` (may be empty). */
  async search(text: string, size = 20): Promise<CatalogEntry[]> {
    const words = text.trim();
    // npmjs understands the keywords: qualifier; registries that do not (verdaccio) are asked for the words (or the
    // keyword itself) instead. Either way only packages that list the keyword are kept.
    let found = await this.searchText(`keywords:${PACK_KEYWORD}${words ? ` ${words}` : ''}`, size);
    if (found.length === 0) found = await this.searchText(words || PACK_KEYWORD, size * 5);
    return found.filter((entry) => entry.keywords.includes(PACK_KEYWORD)).slice(0, size);
  }

  private async searchText(text: string, size: number): Promise<CatalogEntry[]> {
    const res = await this.get(`-/v1/search?text=${encodeURIComponent(text)}&size=${size}`);
    if (!res.ok) throw new RegistryUnavailableError(this.url, new Error(`search answered ${res.status}`));
    const body = (await res.json()) as { objects?: Array<{ package: Record<string, any> }> };
    return (body.objects ?? []).map(({ package: p }) => ({
      name: String(p.name),
      version: String(p.version ?? p['dist-tags']?.latest ?? ''),
      ...(p.description ? { description: String(p.description) } : {}),
      keywords: Array.isArray(p.keywords) ? p.keywords.map(String) : [],
      ...(p.date ? { date: String(p.date) } : {}),
      ...(p.publisher?.username ? { publisher: String(p.publisher.username) } : {}),
      ...(p.links ? { links: p.links as Record<string, string> } : {}),
    }));
  }

  /** A package's versions, readme and licence; undefined when the registry does not know it. */
  async details(name: string): Promise<PackDetails | undefined> {
    const res = await this.get(name.replace('/', '%2f'));
    if (res.status === 404) return undefined;
    if (!res.ok) throw new RegistryUnavailableError(this.url, new Error(`${name} answered ${res.status}`));
    const doc = (await res.json()) as Record<string, any>;
    const versions = Object.values((doc.versions ?? {}) as Record<string, Record<string, any>>).map((v): PackVersionInfo => {
      const sdkApi = typeof v.flowcrew?.sdkApi === 'number' ? v.flowcrew.sdkApi : 1;
      return { version: String(v.version), sdkApi, compatible: sdkApi <= SDK_API_VERSION, isPack: !!v.flowcrew, ...(v.deprecated ? { deprecated: String(v.deprecated) } : {}) };
    });
    const distTags = (doc['dist-tags'] ?? {}) as Record<string, string>;
    const latest = distTags.latest;
    const latestDoc = latest ? doc.versions?.[latest] : undefined;
    return {
      name: String(doc.name ?? name),
      ...(doc.description || latestDoc?.description ? { description: String(doc.description ?? latestDoc.description) } : {}),
      ...(latestDoc?.license || doc.license ? { license: String(latestDoc?.license ?? doc.license) } : {}),
      readme: typeof doc.readme === 'string' ? doc.readme : typeof latestDoc?.readme === 'string' ? latestDoc.readme : '',
      distTags,
      ...(latest ? { latest } : {}),
      versions,
      ...(doc.time ? { time: doc.time as Record<string, string> } : {}),
    };
  }
}
