/** HubSpot webhook trigger: verifies signature v3, then starts a run per event (or one per request). */
import { defineNode, type FlowMessage, type JsonSchema, type NodeCredential, type TriggerContext, type WebhookRequest } from '@flowcrew/sdk';
import { hubspotCredential, type HubSpotFields } from './credential.ts';
import { verifyV3 } from './signature.ts';

export interface HubSpotTriggerProps {
  path: string;
  publicUrl?: string;
  split: boolean;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: { title: 'Path', type: 'string', pattern: '^/[A-Za-z0-9/_-]*$', default: '/hubspot', description: 'Below /webhook: the target URL you give HubSpot ends with /webhook<path>.' },
    publicUrl: {
      title: 'Target URL as HubSpot calls it',
      type: 'string',
      format: 'uri',
      description: 'The exact URL set in the HubSpot app (e.g. https://flows.example.com/webhook/hubspot): HubSpot signs it. Default: rebuilt from the request (X-Forwarded-Proto/Host behind a proxy).',
    },
    split: { title: 'One run per event', type: 'boolean', default: true, description: 'HubSpot sends up to 100 events a request: on, each starts its own run (msg._msgid is the eventId); off, one run with all of them.' },
  },
} as const satisfies JsonSchema;

const help = `# HubSpot trigger

Starts runs from HubSpot webhook subscriptions (contact, company, deal... creation, property changes, deletions).
Every request is checked before a run starts: its **signature v3** (HMAC SHA-256 of method, URI, body and timestamp
with the app's client secret, from the **hubspot** credential) must match, in constant time, and its timestamp must be
under 5 minutes old; anything else is answered 401 and starts nothing.

Give HubSpot the target URL \`https://<your host>/webhook<path>\`. HubSpot signs the URL it calls: behind a proxy
that rewrites it, set **publicUrl** to exactly that URL.

Each event becomes \`msg.payload\` (\`subscriptionType\`, \`objectId\`, \`propertyName\`, \`propertyValue\`, ...)
with \`msg._msgid\` its \`eventId\` (HubSpot retries deliveries: use it to spot repeats), or, with **split** off, the
whole array. HubSpot gets 200 once the runs are stored, and 500 (so it retries) if they could not be.`;

export const hubspotTriggerNode = defineNode<HubSpotTriggerProps>({
  type: 'hubspot-trigger',
  category: 'trigger',
  label: 'HubSpot trigger',
  icon: 'webhook',
  color: '#FF7A59',
  inputs: 0,
  outputs: 1,
  props,
  credentials: { type: hubspotCredential.name, schema: hubspotCredential.schema, required: true },
  help,
  create(init) {
    const credential = init.credential as NodeCredential<HubSpotFields> | undefined;
    if (!credential) throw new Error('needs a hubspot credential (its client secret verifies the requests)');
    const p: HubSpotTriggerProps = { ...init.props, path: init.props.path ?? '/hubspot', split: init.props.split ?? true };
    let unregister: (() => void) | undefined;

    /** The URI HubSpot called, as it signed it. */
    const uriOf = (request: WebhookRequest): string => {
      if (p.publicUrl) return p.publicUrl;
      const query = new URLSearchParams(Object.entries(request.query).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, String(x)]) : [[k, String(v)]]))).toString();
      const header = (name: string) => [request.headers[name]].flat()[0]?.split(',')[0]?.trim();
      return `${header('x-forwarded-proto') ?? 'http'}://${header('x-forwarded-host') ?? header('host')}/webhook${request.path}${query ? `?${query}` : ''}`;
    };

    const handle = async (trigger: TriggerContext, request: WebhookRequest) => {
      const secret = credential.fields.clientSecret;
      if (!secret) return { status: 500, body: { error: 'the hubspot credential has no client secret to verify requests with' } };
      const verdict = verifyV3(secret, {
        method: request.method,
        uri: uriOf(request),
        body: request.rawBody?.toString('utf8') ?? '',
        signature: [request.headers['x-hubspot-signature-v3']].flat()[0],
        timestamp: [request.headers['x-hubspot-request-timestamp']].flat()[0],
      });
      if (!verdict.ok) {
        init.log.warn(`HubSpot webhook refused: ${verdict.reason}`);
        return { status: 401, body: { error: 'invalid signature' } };
      }
      const events = Array.isArray(request.body) ? (request.body as Array<Record<string, unknown>>) : [request.body as Record<string, unknown>];
      try {
        if (!p.split) await trigger.emit({ payload: events, topic: 'hubspot' });
        else
          for (const event of events) {
            const msg: FlowMessage = { payload: event, topic: String(event?.subscriptionType ?? 'hubspot') };
            if (event?.eventId !== undefined) msg._msgid = `hubspot-${String(event.eventId)}`;
            await trigger.emit(msg);
          }
        return { status: 200, body: { received: events.length } };
      } catch (error) {
        // HubSpot retries a delivery answered with 5xx: nothing is lost when a run could not be stored.
        return { status: 500, body: { error: `the run could not be stored: ${(error as Error).message}` } };
      }
    };

    return {
      start(trigger) {
        unregister = init.services.registerWebhook({ method: 'POST', path: p.path, accept: ['application/json'], maxBodyBytes: 5 * 1024 * 1024, handle: (request) => handle(trigger, request) });
      },
      stop() {
        unregister?.();
        unregister = undefined;
      },
    };
  },
});
