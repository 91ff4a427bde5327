import { describe, expect, it } from 'vitest';
import { hostAllowedBy } from './index.ts';

describe('hostAllowedBy (credentials bound to hosts)', () => {
  const allowed = (patterns: string[], url: string) => hostAllowedBy(patterns, new URL(url));

  it('matches exact names, case-insensitively, with any port unless one is given', () => {
    expect(allowed(['API.example.com'], 'https://api.example.com/x')).toBe(true);
    expect(allowed(['api.example.com'], 'https://api.example.com.:8443/x')).toBe(true);
    expect(allowed(['api.example.com:443'], 'https://api.example.com/x')).toBe(true);
    expect(allowed(['api.example.com:443'], 'http://api.example.com/x')).toBe(false);
    expect(allowed(['api.example.com'], 'https://evil.example.com/x')).toBe(false);
    expect(allowed(['api.example.com'], 'https://api.example.com.evil.net/x')).toBe(false);
  });

  it('matches subdomains with *. and never the bare domain', () => {
    expect(allowed(['*.example.com'], 'https://a.b.example.com/')).toBe(true);
    expect(allowed(['*.example.com'], 'https://example.com/')).toBe(false);
    expect(allowed(['*.example.com'], 'https://notexample.com/')).toBe(false);
  });

  it('matches IP literals, IPv6 with brackets and ports', () => {
    expect(allowed(['10.1.2.3'], 'http://10.1.2.3:8080/')).toBe(true);
    expect(allowed(['[::1]:8080'], 'http://[::1]:8080/')).toBe(true);
    expect(allowed(['::1'], 'http://[::1]:9/')).toBe(true);
    expect(allowed([], 'http://10.1.2.3/')).toBe(false);
  });
});
