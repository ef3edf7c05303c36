/**
 * The gateway's functions and HTTP routes, declared once: the CDK stack creates one Lambda and its routes per entry,
 * the local gateway serves the same routes with the same handlers, and the fallback answers 404/405 from it.
 */
export interface FunctionSpec {
  /** CDK construct id. */
  id: string;
  /** Handler module (exports `handler`), relative to the project root. */
  entry: string;
  /** HTTP API route keys (`METHOD /path/{param}`). */
  routes: string[];
  /** What the function may touch: the grants are exactly these (least privilege). */
  access: {
    table: 'read' | 'readwrite';
    merchantKey: 'none' | 'decrypt';
    sandboxSecret: boolean;
  };
}

/** Merchant-authenticated routes read merchants (read) and claim nonces (write), and decrypt merchant secrets. */
const MERCHANT_API = { table: 'readwrite', merchantKey: 'decrypt', sandboxSecret: false } as const;

export const FUNCTIONS: readonly FunctionSpec[] = [
  { id: 'CreatePayment', entry: 'functions/create-payment.ts', routes: ['POST /v1/payments'], access: MERCHANT_API },
  {
    id: 'GetPayment',
    entry: 'functions/get-payment.ts',
    routes: ['GET /v1/payments/{id}', 'GET /v1/payments'],
    access: MERCHANT_API,
  },
  {
    id: 'ClosePayment',
    entry: 'functions/close-payment.ts',
    routes: ['POST /v1/payments/{id}/close'],
    access: MERCHANT_API,
  },
  {
    id: 'Callback',
    entry: 'functions/callback.ts',
    routes: ['POST /v1/callbacks/{channel}'],
    access: { table: 'readwrite', merchantKey: 'none', sandboxSecret: true },
  },
  {
    id: 'Balance',
    entry: 'functions/balance.ts',
    routes: ['GET /v1/accounts/{account_id}/balance'],
    access: MERCHANT_API,
  },
  {
    id: 'Ledger',
    entry: 'functions/ledger.ts',
    routes: ['GET /v1/accounts/{account_id}/ledger'],
    access: MERCHANT_API,
  },
  { id: 'CreateRefund', entry: 'functions/create-refund.ts', routes: ['POST /v1/refunds'], access: MERCHANT_API },
  { id: 'GetRefund', entry: 'functions/get-refund.ts', routes: ['GET /v1/refunds/{id}'], access: MERCHANT_API },
  {
    id: 'SandboxCashier',
    entry: 'functions/sandbox-cashier.ts',
    routes: [
      'GET /sandbox/checkout/{payment_id}',
      'POST /sandbox/checkout/{payment_id}',
      'GET /sandbox/refunds/{refund_id}',
      'POST /sandbox/refunds/{refund_id}',
    ],
    // readwrite: the simulated channel records its refund decisions (SANDBOX#… items).
    access: { table: 'readwrite', merchantKey: 'none', sandboxSecret: true },
  },
  {
    id: 'NotFound',
    entry: 'functions/not-found.ts',
    routes: ['$default'],
    access: { table: 'read', merchantKey: 'none', sandboxSecret: false },
  },
];

/** A compiled route: method, a matcher for the path, and the names of its path parameters. */
export interface CompiledRoute {
  method: string;
  pattern: RegExp;
  params: string[];
  spec: FunctionSpec;
}

export const COMPILED_ROUTES: readonly CompiledRoute[] = FUNCTIONS.flatMap((spec) =>
  spec.routes
    .filter((route) => route !== '$default')
    .map((route) => {
      const [method = '', path = ''] = route.split(' ');
      const params: string[] = [];
      const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([a-z_]+)\}/g, (_, name: string) => {
        params.push(name);
        return '([^/]+)';
      });
      return { method, pattern: new RegExp(`^${source}$`), params, spec };
    }),
);

/** Matches a request to a route: the route, a path known only for other methods (405), or nothing (404). */
export function matchRoute(
  method: string,
  path: string,
):
  | { kind: 'route'; route: CompiledRoute; pathParameters: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' } {
  const allowed: string[] = [];
  for (const route of COMPILED_ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method !== method.toUpperCase()) {
      allowed.push(route.method);
      continue;
    }
    const pathParameters = Object.fromEntries(
      route.params.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]),
    );
    return { kind: 'route', route, pathParameters };
  }
  return allowed.length ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
}
