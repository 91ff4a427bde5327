import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { authHooks } from '../../api/client';
import type { AuthStatus, UserView } from '../../api/types';
import { useAuthStore } from '../../stores/auth';
import { fakeApi } from '../../test/fake-api';
import AccountMenu from './AccountMenu.vue';
import AuthScreen from './AuthScreen.vue';

const ada: UserView = { id: 'u1', username: 'ada', name: 'Ada Lovelace', instanceRole: 'admin', disabled: false, projects: {}, createdAt: 1, updatedAt: 1, lastLoginAt: null };
const status = (over: Partial<AuthStatus> = {}): AuthStatus => ({ setupRequired: false, user: null, oidc: null, ...over });
const keycloak = { issuer: 'http://127.0.0.1:8180/realms/flowcrew', clientId: 'flowcrew-editor', url: 'http://127.0.0.1:8180', realm: 'flowcrew' };

describe('sign-in screens', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });
  afterEach(() => Object.assign(authHooks, { csrfToken: null, bearer: null, onUnauthorized: null }));

  it('first-admin setup: checks the form before sending, then creates the admin', async () => {
    let created = false;
    const calls = fakeApi({
      'GET /auth/status': () => ({ body: created ? status({ user: ada, csrfToken: 'c' }) : status({ setupRequired: true }) }),
      'POST /auth/setup': () => ((created = true), { status: 201, body: ada }),
    });
    const auth = useAuthStore();
    await auth.init();
    const wrapper = mount(AuthScreen);
    expect(wrapper.find('h1').text()).toBe('Set up Flowcrew');
    await wrapper.find('[data-test="setup-username"]').setValue('ada');
    await wrapper.find('[data-test="setup-password"]').setValue('short');
    await wrapper.find('[data-test="setup-form"]').trigger('submit');
    expect(wrapper.find('[data-test="setup-problem"]').text()).toBe('The password must be at least 10 characters long.');
    await wrapper.find('[data-test="setup-password"]').setValue('correct horse battery');
    await wrapper.find('[data-test="setup-confirm"]').setValue('correct horse batterz');
    expect(wrapper.find('[data-test="setup-problem"]').text()).toBe('The two passwords differ.');
    expect(calls.called('POST /auth/setup')).toHaveLength(0);

    await wrapper.find('[data-test="setup-confirm"]').setValue('correct horse battery');
    await wrapper.find('[data-test="setup-name"]').setValue('Ada Lovelace');
    await wrapper.find('[data-test="setup-form"]').trigger('submit');
    await flushPromises();
    expect(calls.called('POST /auth/setup')[0]!.body).toEqual({ username: 'ada', password: 'correct horse battery', name: 'Ada Lovelace' });
    expect(auth.phase).toBe('signed-in');
  });

  it("shows the runtime's refusal of a weak password at setup", async () => {
    fakeApi({
      'GET /auth/status': { body: status({ setupRequired: true }) },
      'POST /auth/setup': { status: 422, body: { title: 'Invalid password', status: 422, errors: [{ pointer: '/password', message: 'The password must not be the username.' }] } },
    });
    await useAuthStore().init();
    const wrapper = mount(AuthScreen);
    await wrapper.find('[data-test="setup-username"]').setValue('ada');
    await wrapper.find('[data-test="setup-password"]').setValue('0123456789');
    await wrapper.find('[data-test="setup-confirm"]').setValue('0123456789');
    await wrapper.find('[data-test="setup-form"]').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-test="setup-error"]').text()).toBe('The password must not be the username.');
  });

  it('sign-in: a wrong password says so and clears the field; the right one signs in', async () => {
    let ok = false;
    const calls = fakeApi({
      'GET /auth/status': () => ({ body: status(ok ? { user: ada, csrfToken: 'c' } : {}) }),
      'POST /auth/login': (req) => ((req.body as { password: string }).password === 'right password' ? ((ok = true), { body: ada }) : { status: 401, body: { title: 'Unauthorized', status: 401 } }),
    });
    const auth = useAuthStore();
    await auth.init();
    const wrapper = mount(AuthScreen);
    expect(wrapper.find('h1').text()).toBe('Sign in to Flowcrew');
    await wrapper.find('[data-test="signin-username"]').setValue('ada');
    await wrapper.find('[data-test="signin-password"]').setValue('wrong');
    await wrapper.find('[data-test="signin-form"]').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-test="signin-error"]').text()).toBe('Wrong username or password.');
    expect((wrapper.find('[data-test="signin-password"]').element as HTMLInputElement).value).toBe('');
    await wrapper.find('[data-test="signin-password"]').setValue('right password');
    await wrapper.find('[data-test="signin-form"]').trigger('submit');
    await flushPromises();
    expect(calls.called('POST /auth/login').map((c) => c.body)).toEqual([
      { username: 'ada', password: 'wrong' },
      { username: 'ada', password: 'right password' },
    ]);
    expect(auth.phase).toBe('signed-in');
  });

  it('over the workspace after a session ended, it says the work is kept', async () => {
    fakeApi({ 'GET /auth/status': { body: status({ user: ada, csrfToken: 'c' }) } });
    const auth = useAuthStore();
    await auth.init();
    auth.unauthorized();
    const wrapper = mount(AuthScreen, { props: { overlay: true } });
    expect(wrapper.find('[data-test="auth-screen"]').classes()).toContain('modal-backdrop');
    expect(wrapper.find('[data-test="auth-notice"]').text()).toMatch(/session has ended.*unsaved changes are kept/);
    expect((wrapper.find('[data-test="signin-username"]').element as HTMLInputElement).value).toBe('ada');
  });

  it('with Keycloak: a button to sign in there, and a clear refusal for an account without a role', async () => {
    fakeApi({ 'GET /auth/status': { body: status({ oidc: keycloak }) }, 'GET /flows': { status: 403, body: { title: 'Forbidden', status: 403 } } });
    const auth = useAuthStore();
    const login = vi.fn(async () => undefined);
    await auth.init({ oidcClient: () => ({ start: async () => null, login, mayRedirect: () => false }) });
    const wrapper = mount(AuthScreen);
    expect(wrapper.find('[data-test="signin-form"]').exists()).toBe(false);
    await wrapper.find('[data-test="oidc-signin"]').trigger('click');
    expect(login).toHaveBeenCalledOnce();
    expect(wrapper.find('[data-test="auth-redirecting"]').exists()).toBe(true);

    setActivePinia(createPinia());
    const logout = vi.fn(async () => undefined);
    const refused = useAuthStore();
    await refused.init({ oidcClient: () => ({ start: async () => ({ username: 'nora', name: 'Nora', token: async () => 't', logout }), login, mayRedirect: () => true }) });
    const page = mount(AuthScreen);
    expect(page.find('h1').text()).toBe('No access');
    expect(page.find('[data-test="no-access"]').text()).toMatch(/signed in as nora, but this account has no role in Flowcrew/);
    await page.find('[data-test="signout"]').trigger('click');
    expect(logout).toHaveBeenCalledOnce();
  });
});

describe('account menu', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });
  afterEach(() => Object.assign(authHooks, { csrfToken: null, bearer: null, onUnauthorized: null }));

  it('shows who is signed in, changes the password, and signs out', async () => {
    const calls = fakeApi({
      'GET /auth/status': { body: status({ user: ada, csrfToken: 'c' }) },
      'POST /auth/password': (req) =>
        (req.body as { currentPassword: string }).currentPassword === 'old password 1' ? { status: 204 } : { status: 401, body: { title: 'Unauthorized', status: 401 } },
      'POST /auth/logout': { status: 204 },
    });
    const auth = useAuthStore();
    await auth.init();
    const wrapper = mount(AccountMenu, { attachTo: document.body });
    expect(wrapper.find('[data-test="account-name"]').text()).toBe('Ada Lovelace');
    await wrapper.find('[data-test="account-button"]').trigger('click');
    expect(wrapper.find('[data-test="account-menu"]').text()).toContain('administrator');
    await wrapper.find('[data-test="change-password"]').trigger('click');

    await wrapper.find('[data-test="password-current"]').setValue('typo');
    await wrapper.find('[data-test="password-new"]').setValue('new password 2');
    await wrapper.find('[data-test="password-confirm"]').setValue('new password 2');
    await wrapper.find('[data-test="password-dialog"]').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-test="password-error"]').text()).toBe('The current password is wrong.');
    expect(auth.phase).toBe('signed-in'); // a wrong current password is not a lost session

    await wrapper.find('[data-test="password-current"]').setValue('old password 1');
    await wrapper.find('[data-test="password-dialog"]').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-test="password-dialog"]').exists()).toBe(false);

    await wrapper.find('[data-test="account-button"]').trigger('click');
    await wrapper.find('[data-test="signout"]').trigger('click');
    await flushPromises();
    expect(calls.called('POST /auth/logout')).toHaveLength(1);
    expect(auth.phase).toBe('sign-in');
    wrapper.unmount();
  });

  it('offers no password change to an account of the identity provider', async () => {
    fakeApi({ 'GET /auth/status': { body: status({ oidc: keycloak }) }, 'GET /flows': { body: [] } });
    const auth = useAuthStore();
    await auth.init({ oidcClient: () => ({ start: async () => ({ username: 'erin', name: 'Erin Editor', token: async () => 't', logout: async () => undefined }), login: async () => undefined, mayRedirect: () => true }) });
    const wrapper = mount(AccountMenu);
    await wrapper.find('[data-test="account-button"]').trigger('click');
    expect(wrapper.find('[data-test="account-menu"]').text()).toContain('signed in with Keycloak');
    expect(wrapper.find('[data-test="change-password"]').exists()).toBe(false);
  });
});
