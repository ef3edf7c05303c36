import { describe, expect, it } from 'vitest';
import { COMPILED_ROUTES, FUNCTIONS, matchRoute } from '#routes';

const ROUTE_KEYS = FUNCTIONS.flatMap((spec) =>
  spec.routes.filter((route) => route !== '$default').map((route) => ({ route, spec })),
);

/** A sample parameter value that needs percent-encoding, so decoding is checked too. */
const sampleValue = (name: string) => `${name}:é 1`;

function samplePath(path: string): { path: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const sampled = path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    params[name] = sampleValue(name);
    return encodeURIComponent(sampleValue(name));
  });
  return { path: sampled, params };
}

describe('matchRoute', () => {
  it('declares routes for every function', () => {
    expect(ROUTE_KEYS.length).toBeGreaterThanOrEqual(9);
    expect(COMPILED_ROUTES).toHaveLength(ROUTE_KEYS.length);
  });

  it.each(ROUTE_KEYS)('matches $route and decodes its path parameters', ({ route, spec }) => {
    const [method = '', path = ''] = route.split(' ');
    const sample = samplePath(path);
    const match = matchRoute(method, sample.path);
    expect(match.kind).toBe('route');
    if (match.kind !== 'route') return;
    expect(match.route.spec.id).toBe(spec.id);
    expect(match.route.method).toBe(method);
    expect(match.pathParameters).toEqual(sample.params);
  });

  it('matches a lower-case method', () => {
    const match = matchRoute('get', '/v1/payments/pay_1');
    expect(match.kind === 'route' && match.route.spec.id).toBe('GetPayment');
  });

  it('tells GET /v1/payments from POST /v1/payments', () => {
    const get = matchRoute('GET', '/v1/payments');
    const post = matchRoute('POST', '/v1/payments');
    expect(get.kind === 'route' && get.route.spec.id).toBe('ListPayments');
    expect(post.kind === 'route' && post.route.spec.id).toBe('CreatePayment');
  });

  it('answers method-not-allowed with the allowed methods for a known path', () => {
    const match = matchRoute('DELETE', '/v1/payments');
    expect(match.kind).toBe('method-not-allowed');
    if (match.kind !== 'method-not-allowed') return;
    expect([...match.allowed].sort()).toEqual(['GET', 'POST']);
  });

  it('answers method-not-allowed for GET on the close route', () => {
    expect(matchRoute('GET', '/v1/payments/pay_1/close')).toEqual({ kind: 'method-not-allowed', allowed: ['POST'] });
  });

  it.each([
    '/',
    '/v1',
    '/v2/payments',
    '/v1/payments/',
    '/v1/payments/pay_1/refund',
    '/v1/payments/pay_1/close/',
    '/v1/accounts/user-42',
    '/v1/accounts//balance',
    '/sandbox/checkout',
    '/v1/payments?order_no=A1',
  ])('answers not-found for the unknown path %j', (path) => {
    expect(matchRoute('GET', path)).toEqual({ kind: 'not-found' });
  });

  it('does not compile $default as a path', () => {
    expect(COMPILED_ROUTES.some((route) => route.spec.id === 'NotFound')).toBe(false);
    expect(new Set(COMPILED_ROUTES.map((route) => route.method))).toEqual(new Set(['GET', 'POST']));
    // Compiled as a path, '$default' would split into method '$default' and an empty path.
    expect(matchRoute('$default', '')).toEqual({ kind: 'not-found' });
    expect(matchRoute('GET', '')).toEqual({ kind: 'not-found' });
    expect(matchRoute('GET', '$default')).toEqual({ kind: 'not-found' });
  });

  it('does not let a path parameter span a slash', () => {
    expect(matchRoute('GET', '/v1/accounts/a/b/balance')).toEqual({ kind: 'not-found' });
  });

  it.each(['/v1/payments/%E0%A4%A', '/v1/payments/%ZZ', '/v1/accounts/%C3%28/balance', '/v1/payments/%FF/close'])(
    'reports the undecodable path %s as not found, for any method',
    (path) => {
      expect(matchRoute('GET', path)).toEqual({ kind: 'not-found' });
      expect(matchRoute('POST', path)).toEqual({ kind: 'not-found' });
    },
  );
});
