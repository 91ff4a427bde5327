/** The `salesforce` credential type: a connected app and one of its OAuth 2.0 flows; Test connection asks who we are. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { hostOf } from '../shared/http.ts';
import { connect, loginUrlOf, SalesforceError, type SalesforceFields } from './connect.ts';

const requiredFor = (flow: string, fields: string[]) => ({ if: { properties: { flow: { const: flow } }, required: ['flow'] }, then: { required: fields } });

export const salesforceCredentialSchema = {
  type: 'object',
  required: ['flow', 'clientId'],
  additionalProperties: false,
  properties: {
    flow: {
      title: 'OAuth 2.0 flow',
      enum: ['password', 'refresh-token', 'jwt', 'web-server'],
      default: 'jwt',
      description: 'jwt: JWT bearer with the connected app\'s certificate (recommended for servers). refresh-token: a refresh token obtained once by a user. web-server: a user gives consent with "Connect" on the credential (authorization code flow with PKCE; register <this runtime>/api/v1/oauth2/callback as the connected app\'s callback URL), the refresh token is stored here. password: username-password (if the org still allows it).',
    },
    loginUrl: { title: 'Login URL', type: 'string', format: 'uri', default: 'https://login.salesforce.com', description: 'https://login.salesforce.com, https://test.salesforce.com for sandboxes, or your My Domain URL. The outbound guard must allow it.' },
    clientId: { title: 'Consumer key', type: 'string', minLength: 1, description: 'The connected app\'s consumer key (client id).' },
    clientSecret: { title: 'Consumer secret', type: 'string', writeOnly: true, description: 'Needed by the password flow; optional for the others.' },
    username: { title: 'Username', type: 'string', description: 'password and jwt flows: the Salesforce user the integration acts as.' },
    password: { title: 'Password', type: 'string', writeOnly: true },
    securityToken: { title: 'Security token', type: 'string', writeOnly: true, description: 'password flow: appended to the password when the org requires it.' },
    refreshToken: { title: 'Refresh token', type: 'string', writeOnly: true },
    privateKey: { title: 'Private key (PEM, PKCS#8)', type: 'string', writeOnly: true, description: 'jwt flow: the key of the certificate uploaded to the connected app.' },
    apiVersion: { title: 'API version', type: 'string', pattern: '^\\d+\\.0$', default: '62.0' },
  },
  allOf: [requiredFor('password', ['username', 'password', 'clientSecret']), requiredFor('refresh-token', ['refreshToken']), requiredFor('jwt', ['username', 'privateKey'])],
} as const satisfies JsonSchema;

export const salesforceCredential = defineCredentialType<SalesforceFields>({
  name: 'salesforce',
  label: 'Salesforce',
  description: 'A Salesforce connected app and how to sign in with it. Used by the Salesforce node; one session per credential is shared by every node that uses it, renewed when it expires.',
  schema: salesforceCredentialSchema,
  secret: ['clientSecret', 'password', 'securityToken', 'refreshToken', 'privateKey'],
  async test(fields, services) {
    try {
      const conn = await connect(fields, services.outbound);
      const who = (await conn.identity()) as { username?: string; organization_id?: string };
      return { ok: true, message: `connected to Salesforce at ${hostOf(conn.instanceUrl)} as ${who.username} (org ${who.organization_id}, API ${conn.version}, ${fields.flow} flow)` };
    } catch (error) {
      return { ok: false, message: (error instanceof SalesforceError ? error : new SalesforceError(hostOf(loginUrlOf(fields)), 'connection test', error)).message };
    }
  },
});
