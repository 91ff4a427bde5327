/** The `dynamics365` credential type: an environment and an app registration (client credentials). */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { DynamicsClient, type DynamicsFields } from './client.ts';

export const dynamicsCredentialSchema = {
  type: 'object',
  required: ['url', 'tenantId', 'clientId', 'clientSecret'],
  additionalProperties: false,
  properties: {
    url: { title: 'Environment URL', type: 'string', format: 'uri', description: 'e.g. https://yourorg.crm.dynamics.com' },
    tenantId: { title: 'Tenant (directory) id', type: 'string', minLength: 1 },
    clientId: { title: 'Application (client) id', type: 'string', minLength: 1 },
    clientSecret: { title: 'Client secret', type: 'string', writeOnly: true, minLength: 1 },
    authorityHost: { title: 'Identity platform', type: 'string', format: 'uri', default: 'https://login.microsoftonline.com', description: 'Another cloud\'s login host (e.g. https://login.microsoftonline.us).' },
    apiVersion: { title: 'Web API version', type: 'string', pattern: '^\\d+\\.\\d+$', default: '9.2' },
  },
} as const satisfies JsonSchema;

export const dynamicsCredential = defineCredentialType<DynamicsFields>({
  name: 'dynamics365',
  label: 'Dynamics 365',
  description: 'A Dynamics 365 / Dataverse environment and an app registration with an application user in it (OAuth 2.0 client credentials).',
  schema: dynamicsCredentialSchema,
  secret: ['clientSecret'],
  async test(fields, services, signal) {
    const client = new DynamicsClient(fields, services);
    try {
      const who = (await client.request('WhoAmI', 'GET', 'WhoAmI', { signal })).body as { UserId?: string; OrganizationId?: string };
      return { ok: true, message: `connected to Dynamics 365 at ${client.host} as application user ${who.UserId} (organization ${who.OrganizationId})` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  },
});
