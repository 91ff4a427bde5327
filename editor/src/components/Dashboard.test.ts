import { flushPromises, mount } from '@vue/test-utils';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '../test/fake-api';
import Dashboard from './Dashboard.vue';

describe('Dashboard', () => {
  beforeEach(() => {
    vi.unstubAllGlobals();
    // happy-dom has no 2D canvas: Chart.js logs that it cannot draw, which is not what these tests are about.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  it('shows totals for the last hour', async () => {
    const now = Date.UTC(2025, 0, 1, 12, 0);
    fakeApi({
      'GET /stats': (req) => {
        expect(req.query.get('minutes')).toBe('60');
        return { body: { from: now - 3_600_000, to: now, buckets: [{ at: now - 60_000, runs: 10, failed: 2, p95Ms: 120 }, { at: now, runs: 4, failed: 0, p95Ms: null }], totals: { runs: 14, failed: 2, p95Ms: 1500 }, activeFlows: 3 } };
      },
    });
    const wrapper = mount(Dashboard);
    await flushPromises();
    expect(wrapper.find('[data-test="stat-runs"]').text()).toBe('14runs');
    expect(wrapper.find('[data-test="stat-failed"]').text()).toBe('2failed (14.3%)');
    expect(wrapper.find('[data-test="stat-p95"]').text()).toBe('1.50 sp95 run duration');
    expect(wrapper.find('[data-test="stat-active"]').text()).toBe('3active flows');
    wrapper.unmount();
  });

  it('says stats are unavailable when the runtime has no stats endpoint', async () => {
    fakeApi({});
    const wrapper = mount(Dashboard);
    await flushPromises();
    expect(wrapper.find('[data-test="stats-unavailable"]').text()).toContain('Stats unavailable.');
    wrapper.unmount();
  });
});
