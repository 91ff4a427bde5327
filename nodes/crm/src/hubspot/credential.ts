/** The `hubspot` credential type: a private app's access token, and the app's client secret for webhook signatures. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { guardedFetch, hostOf } from '../shared/http.ts';

export interface HubSpotFields extends Record<string, unknown> {
  accessToken?: string;
  clientSecret?: string;
  baseUrl?: string;
}

export const hubspotCredentialSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    accessToken: { title: 'Access token', type: 'string', writeOnly: true, description: 'A private app\'s access token (pat-...), for API calls.' },
    clientSecret: { title: 'Client secret', type: 'string', writeOnly: true, description: 'The app\'s client secret: HubSpot signs webhook requests with it (signature v3).' },
    baseUrl: { title: 'API address', type: 'string', format: 'uri', default: 'https://api.hubapi.com' },
  },
  anyOf: [{ required: ['accessToken'] }, { required: ['clientSecret'] }],
} as const satisfies JsonSchema;

export const hubspotCredential = defineCredentialType<HubSpotFields>({
  name: 'hubspot',
  label: 'HubSpot',
  description: 'A HubSpot private app: its access token for API calls and its client secret to verify webhook requests.',
  schema: hubspotCredentialSchema,
  secret: ['accessToken', 'clientSecret'],
  async test(fields, services, signal) {
    const base = (fields.baseUrl || 'https://api.hubapi.com').replace(/\/+$/, '');
    if (!fields.accessToken) return { ok: true, message: 'no access token: only webhook signatures can be checked with this credential (nothing to test remotely)' };
    const response = await guardedFetch(services.outbound, `${base}/account-info/v3/details`, { headers: { authorization: `Bearer ${fields.accessToken}` }, signal });
    const body = (await response.json().catch(() => ({}))) as { portalId?: number; message?: string; category?: string };
    if (!response.ok) return { ok: false, message: `HubSpot ${hostOf(base)}: account details answered ${response.status}${body.category ? ` ${body.category}` : ''}: ${body.message ?? response.statusText}` };
    return { ok: true, message: `connected to HubSpot account ${body.portalId} at ${hostOf(base)}` };
  },
});
