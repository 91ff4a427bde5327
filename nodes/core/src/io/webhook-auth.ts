/**
 * The webhook node's security props and credential, turned into what the runtime enforces (SDK WebhookAuth,
 * accepted content types, body size). Checked at deploy: a webhook that asks for authentication and lacks the
 * secret for it does not deploy (it never answers unauthenticated).
 */
import type { JsonSchema, WebhookAuth, WebhookSignatureScheme } from '@flowcrew/sdk';
import { WEBHOOK_DEFAULT_ACCEPT } from '@flowcrew/sdk';
import bytes from 'bytes';

export const WEBHOOK_AUTH_TYPES = ['none', 'basic', 'header', 'hmac'] as const;
export const SIGNATURE_SCHEMES = ['flowcrew', 'github', 'slack'] as const satisfies readonly WebhookSignatureScheme[];

export interface WebhookSecurityProps {
  auth?: (typeof WEBHOOK_AUTH_TYPES)[number];
  hmac?: { scheme?: WebhookSignatureScheme; signatureHeader?: string; timestampHeader?: string; toleranceSeconds?: number };
  accept?: string[];
  maxBodySize?: string;
}

/** The `webhook-auth` credential: which fields a mode uses. */
export interface WebhookAuthCredential {
  username?: unknown;
  password?: unknown;
  header?: unknown;
  token?: unknown;
  secret?: unknown;
}

const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
const MEDIA_TYPE = "^([!#$%&'*+.^_`|~0-9A-Za-z-]+/([!#$%&'*+.^_`|~0-9A-Za-z-]+|\\*)|\\*/\\*)$";

export const webhookSecurityProps: Record<string, JsonSchema> = {
  auth: {
    type: 'string',
    enum: [...WEBHOOK_AUTH_TYPES],
    default: 'none',
    description: 'Who may call: none, basic (username/password), header (a token header), hmac (a signed body); secrets come from the credential',
  },
  hmac: {
    type: 'object',
    description: 'With auth hmac: how the sender signs',
    additionalProperties: false,
    properties: {
      scheme: { type: 'string', enum: [...SIGNATURE_SCHEMES], default: 'flowcrew', description: 'flowcrew (timestamp.body), github (X-Hub-Signature-256), slack (v0:timestamp:body)' },
      signatureHeader: { type: 'string', pattern: HEADER_NAME, description: "Override the scheme's signature header" },
      timestampHeader: { type: 'string', pattern: HEADER_NAME, description: "Override the scheme's timestamp header (not for github: it sends none)" },
      toleranceSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 300, description: 'Refuse timestamps further than this from now' },
    },
  },
  accept: {
    type: 'array',
    items: { type: 'string', pattern: MEDIA_TYPE },
    minItems: 1,
    uniqueItems: true,
    default: [...WEBHOOK_DEFAULT_ACCEPT],
    description: 'Content types accepted (others get 415), e.g. application/json, text/*, multipart/form-data',
  },
  maxBodySize: {
    type: 'string',
    pattern: '^[0-9]+(\\.[0-9]+)?\\s*([kKmMgG]?[bB])?$',
    description: 'Largest body, e.g. 64kb (larger gets 413); never more than the runtime limit FLOWCREW_BODY_LIMIT',
  },
};

export const webhookAuthCredential = {
  type: 'webhook-auth',
  required: false,
  schema: {
    type: 'object',
    properties: {
      username: { type: 'string', description: 'auth basic: the username' },
      password: { type: 'string', writeOnly: true, description: 'auth basic: the password' },
      header: { type: 'string', pattern: HEADER_NAME, default: 'Authorization', description: 'auth header: the header carrying the token' },
      token: { type: 'string', writeOnly: true, description: 'auth header: the token (with Authorization, "Bearer <token>" is accepted too)' },
      secret: { type: 'string', writeOnly: true, description: 'auth hmac: the shared signing secret' },
    },
  },
} as const;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What the runtime enforces for this webhook; throws (the flow does not deploy) when a secret is missing. */
export function webhookSecurity(props: WebhookSecurityProps, credentials: WebhookAuthCredential | undefined): { auth: WebhookAuth; accept: string[]; maxBodyBytes?: number } {
  const mode = props.auth ?? 'none';
  const need = (fields: string) => new Error(`webhook: auth "${mode}" needs a webhook-auth credential with ${fields}`);
  let auth: WebhookAuth;
  switch (mode) {
    case 'none':
      auth = { type: 'none' };
      break;
    case 'basic': {
      const username = text(credentials?.username);
      const password = text(credentials?.password);
      if (!username || !password) throw need('username and password');
      if (username.includes(':')) throw new Error('webhook: a Basic username cannot contain ":"');
      auth = { type: 'basic', username, password };
      break;
    }
    case 'header': {
      const token = text(credentials?.token);
      const header = text(credentials?.header) ?? 'Authorization';
      if (!token) throw need('a token');
      if (!new RegExp(HEADER_NAME).test(header)) throw new Error(`webhook: "${header}" is not a valid header name`);
      auth = { type: 'header', header, token };
      break;
    }
    case 'hmac': {
      const secret = text(credentials?.secret);
      if (!secret) throw need('a secret');
      const hmac = props.hmac ?? {};
      if ((hmac.scheme ?? 'flowcrew') === 'github' && hmac.timestampHeader) throw new Error('webhook: the github scheme signs no timestamp, so timestampHeader cannot be used with it');
      auth = { type: 'hmac', secret, ...hmac };
      break;
    }
    default:
      throw new Error(`webhook: unknown auth "${String(mode)}" (use ${WEBHOOK_AUTH_TYPES.join(', ')})`);
  }
  let maxBodyBytes: number | undefined;
  if (props.maxBodySize !== undefined) {
    const parsed = bytes.parse(props.maxBodySize);
    if (parsed === null || !Number.isFinite(parsed) || parsed < 1) throw new Error(`webhook: maxBodySize "${props.maxBodySize}" is not a size like 64kb`);
    maxBodyBytes = Math.floor(parsed);
  }
  const accept = (props.accept ?? [...WEBHOOK_DEFAULT_ACCEPT]).map((t) => t.toLowerCase());
  if (accept.length === 0) throw new Error('webhook: accept needs at least one content type');
  return { auth, accept, ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}) };
}
