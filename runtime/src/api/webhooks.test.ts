import { describe, expect, it } from 'vitest';
import type { WebhookRoute } from '@flowcrew/sdk';
import { WebhookRouter } from './webhooks.ts';

const route = (method: string, path: string): WebhookRoute => ({ method, path, handle: async () => ({ status: 200 }) }) as WebhookRoute;

describe('WebhookRouter.match', () => {
  it('finds literal and parameter routes, literal segments first, with 405 for a known path and another method', () => {
    const router = new WebhookRouter();
    const orders = route('POST', '/orders');
    const byId = route('GET', '/orders/:id');
    const latest = route('GET', '/orders/latest');
    const any = route('ALL', '/ping');
    for (const r of [orders, byId, latest, any]) router.register(r);
    expect(router.match('POST', '/orders')).toEqual({ route: orders, params: {} });
    expect(router.match('post', '/orders')).toEqual({ route: orders, params: {} });
    expect(router.match('POST', '/orders/')).toEqual({ route: orders, params: {} });
    expect(router.match('POST', '//orders')).toEqual({ route: orders, params: {} });
    expect(router.match('GET', '/orders')).toEqual({ methodNotAllowed: true });
    expect(router.match('GET', '/orders/latest')).toEqual({ route: latest, params: {} });
    expect(router.match('GET', '/orders/a%20b')).toEqual({ route: byId, params: { id: 'a b' } });
    expect(router.match('DELETE', '/ping')).toEqual({ route: any, params: {} });
    expect(router.match('GET', '/Orders')).toBeNull();
    expect(router.match('GET', '/nowhere')).toBeNull();
  });

  it('gives each request its own params object and forgets a route once unregistered', () => {
    const router = new WebhookRouter();
    const r = route('POST', '/a/b');
    const unregister = router.register(r);
    const first = router.match('POST', '/a/b') as { params: Record<string, string> };
    first.params.x = 'changed';
    expect(router.match('POST', '/a/b')).toEqual({ route: r, params: {} });
    unregister();
    expect(router.match('POST', '/a/b')).toBeNull();
    const again = route('PUT', '/a/b');
    router.register(again);
    expect(router.match('PUT', '/a/b')).toEqual({ route: again, params: {} });
    expect(router.match('POST', '/a/b')).toEqual({ methodNotAllowed: true });
  });
});
