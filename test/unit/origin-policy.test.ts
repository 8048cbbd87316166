/**
 * The perimeter's rules as pure functions: which Host and Origin headers the
 * server answers to, and what the allow-lists accept.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  corsOptionsFor,
  isAllowedHost,
  judgeOrigin,
  parseHostList,
  parseOriginList,
  perimeterRefusal,
  type HostPolicy,
} from '../../src/http/origin-policy.js';

const policy = (
  boundHost: string,
  port: number,
  options: { allowedHosts?: string[]; open?: boolean } = {},
): HostPolicy => ({
  boundHost,
  port,
  allowedHosts: options.allowedHosts ?? [],
  isOpen: () => options.open ?? true,
});

describe('TRIALOG_CORS_ORIGINS', () => {
  it('takes exact origins, comma-separated, and nothing when unset or blank', () => {
    expect(parseOriginList('https://dash.example.com, http://localhost:5173')).toEqual([
      'https://dash.example.com',
      'http://localhost:5173',
    ]);
    expect(parseOriginList(undefined)).toEqual([]);
    expect(parseOriginList('  ')).toEqual([]);
  });

  it.each([
    '*',
    'dash.example.com',
    'https://dash.example.com/',
    'https://dash.example.com/app',
    'ftp://x.example',
    'https://Dash.example.com',
    'null',
    'http://localhost:80',
  ])('refuses %j, which is not an origin as a browser sends it', (entry) => {
    expect(() => parseOriginList(entry)).toThrow(/is not an origin/);
  });

  it('is checked at start: a bad entry stops the server with one line naming the variable', () => {
    expect(() => loadConfig({ TRIALOG_CORS_ORIGINS: 'https://ok.example,https://bad.example/' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRIALOG_CORS_ORIGINS: 'https://ok.example,https://bad.example/' })).toThrow(
      /TRIALOG_CORS_ORIGINS has "https:\/\/bad.example\/" is not an origin/,
    );
    expect(loadConfig({ TRIALOG_CORS_ORIGINS: 'https://ok.example' }).perimeter.corsOrigins).toEqual([
      'https://ok.example',
    ]);
    expect(loadConfig({}).perimeter).toEqual({ corsOrigins: [], allowedHosts: [] });
  });
});

describe('TRIALOG_ALLOWED_HOSTS', () => {
  it('takes host names, optionally with a port, in lower case', () => {
    expect(parseHostList('Trialog.Example.com, 10.0.0.5:4000,[::1]:4000')).toEqual([
      'trialog.example.com',
      '10.0.0.5:4000',
      '[::1]:4000',
    ]);
  });

  it.each(['http://trialog.example.com', 'trialog.example.com/graphql', '*.example.com', 'a b', 'host:port'])(
    'refuses %j',
    (entry) => {
      expect(() => parseHostList(entry)).toThrow(/is not a host name/);
    },
  );

  it('is checked at start', () => {
    expect(() => loadConfig({ TRIALOG_ALLOWED_HOSTS: '*' })).toThrow(
      /TRIALOG_ALLOWED_HOSTS has "\*" is not a host name/,
    );
    expect(loadConfig({ TRIALOG_ALLOWED_HOSTS: 'gpu-box' }).perimeter.allowedHosts).toEqual(['gpu-box']);
  });
});

describe('the Host a request names', () => {
  it('given a server bound to loopback, then the loopback names with its port pass, in any case', () => {
    const loopback = policy('127.0.0.1', 4000);
    for (const host of ['127.0.0.1:4000', 'localhost:4000', 'LOCALHOST:4000', '[::1]:4000'])
      expect(isAllowedHost(host, loopback), host).toBe(true);
  });

  it('given a server bound to loopback, then any other name or port is refused (DNS rebinding)', () => {
    const loopback = policy('127.0.0.1', 4000);
    for (const host of [
      'rebind.example:4000',
      'localhost:4001',
      'localhost',
      '127.0.0.2:4000',
      'localhost.:4000',
      '',
      undefined,
    ]) {
      expect(isAllowedHost(host, loopback), String(host)).toBe(false);
    }
  });

  it('given port 80, then a Host without a port means port 80', () => {
    expect(isAllowedHost('localhost', policy('127.0.0.1', 80))).toBe(true);
    expect(isAllowedHost('localhost:80', policy('127.0.0.1', 80))).toBe(true);
  });

  it('given a server bound to one network address, then that address passes, and a name only when allow-listed', () => {
    expect(isAllowedHost('10.0.0.5:4000', policy('10.0.0.5', 4000, { open: false }))).toBe(true);
    expect(isAllowedHost('gpu-box:4000', policy('10.0.0.5', 4000, { open: false }))).toBe(false);
    expect(isAllowedHost('gpu-box:4000', policy('10.0.0.5', 4000, { open: false, allowedHosts: ['gpu-box'] }))).toBe(
      true,
    );
    expect(isAllowedHost('localhost:4000', policy('10.0.0.5', 4000, { open: false }))).toBe(false);
  });

  it('given an allow-listed name with a port, then only that port passes', () => {
    const proxied = policy('127.0.0.1', 4000, { allowedHosts: ['trialog.example.com:443'] });
    expect(isAllowedHost('trialog.example.com:443', proxied)).toBe(true);
    expect(isAllowedHost('trialog.example.com', proxied)).toBe(false);
    expect(isAllowedHost('127.0.0.1:4000', proxied)).toBe(true);
  });

  it('given a server bound to every interface with keys required and no allow-list, then any name passes', () => {
    expect(isAllowedHost('gpu-box.lab:4000', policy('0.0.0.0', 4000, { open: false }))).toBe(true);
    expect(isAllowedHost('10.1.2.3:4000', policy('::', 4000, { open: false }))).toBe(true);
  });

  it('given a server bound to every interface with an allow-list, then only its names and the loopback ones pass', () => {
    const listed = policy('0.0.0.0', 4000, { open: false, allowedHosts: ['trialog.lab'] });
    expect(isAllowedHost('trialog.lab:4000', listed)).toBe(true);
    expect(isAllowedHost('localhost:4000', listed)).toBe(true);
    expect(isAllowedHost('other.lab:4000', listed)).toBe(false);
  });

  it('given a server open on every interface, then only the loopback names pass: rebinding matters while open', () => {
    const open = policy('0.0.0.0', 4000, { open: true });
    expect(isAllowedHost('localhost:4000', open)).toBe(true);
    expect(isAllowedHost('rebind.example:4000', open)).toBe(false);
  });

  it('given an IPv6 loopback bind, then the bracketed address passes', () => {
    expect(isAllowedHost('[::1]:4000', policy('::1', 4000))).toBe(true);
    expect(isAllowedHost('[::2]:4000', policy('::1', 4000))).toBe(false);
  });
});

describe('the Origin a request comes from', () => {
  it('given no Origin, then it is a client that is not a web page', () => {
    expect(judgeOrigin(undefined, '127.0.0.1:4000', [])).toBe('absent');
  });

  it("given the server's own origin, then it is same-origin (the scheme aside, for a proxy ending TLS)", () => {
    expect(judgeOrigin('http://127.0.0.1:4000', '127.0.0.1:4000', [])).toBe('same-origin');
    expect(judgeOrigin('https://trialog.example.com', 'trialog.example.com', [])).toBe('same-origin');
    expect(judgeOrigin('https://trialog.example.com', 'trialog.example.com:443', [])).toBe('same-origin');
    expect(judgeOrigin('http://localhost', 'localhost:80', [])).toBe('same-origin');
  });

  it('given another origin, then it is foreign unless allow-listed', () => {
    expect(judgeOrigin('http://127.0.0.1:5173', '127.0.0.1:4000', [])).toBe('foreign');
    expect(judgeOrigin('http://localhost:4000', '127.0.0.1:4000', [])).toBe('foreign');
    expect(judgeOrigin('http://127.0.0.1:5173', '127.0.0.1:4000', ['http://127.0.0.1:5173'])).toBe('allow-listed');
  });

  it('given an opaque origin ("null") or garbage, then it is foreign, even if someone allow-listed it', () => {
    expect(judgeOrigin('null', '127.0.0.1:4000', [])).toBe('foreign');
    expect(judgeOrigin('not a url', '127.0.0.1:4000', [])).toBe('foreign');
    expect(judgeOrigin('file://', '127.0.0.1:4000', [])).toBe('foreign');
  });

  it('says why a request is refused, naming the variable that would allow it', () => {
    const perimeter = { ...policy('127.0.0.1', 4000), corsOrigins: [] };
    expect(perimeterRefusal({ host: 'evil.example:4000', origin: undefined }, perimeter)).toMatch(
      /TRIALOG_ALLOWED_HOSTS/,
    );
    expect(perimeterRefusal({ host: '127.0.0.1:4000', origin: 'http://evil.example' }, perimeter)).toMatch(
      /TRIALOG_CORS_ORIGINS/,
    );
    expect(perimeterRefusal({ host: '127.0.0.1:4000', origin: 'http://127.0.0.1:4000' }, perimeter)).toBeUndefined();
    expect(perimeterRefusal({ host: '127.0.0.1:4000', origin: undefined }, perimeter)).toBeUndefined();
  });
});

describe('CORS headers', () => {
  it('given an allow-listed origin, then that origin alone, never with credentials', () => {
    const options = corsOptionsFor('https://dash.example.com', ['https://dash.example.com']);
    expect(options).toMatchObject({ origin: ['https://dash.example.com'], credentials: false });
    expect(options && options.allowedHeaders).toContain('authorization');
  });

  it('given any other origin, or none, then no CORS headers at all', () => {
    expect(corsOptionsFor('https://evil.example', ['https://dash.example.com'])).toBe(false);
    expect(corsOptionsFor(null, ['https://dash.example.com'])).toBe(false);
    expect(corsOptionsFor('https://dash.example.com', [])).toBe(false);
  });
});
