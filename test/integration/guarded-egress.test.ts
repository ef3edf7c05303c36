import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuardedEgress, type Resolver } from '#adapters/http-notifier.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { loadConfig } from '#shared/config.ts';
import { testContainer, uniqueId } from '../support/fixtures.ts';

/** A local merchant endpoint that counts what reaches it; `behave` decides the answer. */
function endpoint(behave: (res: import('node:http').ServerResponse) => void) {
  const server = createServer((req, res) => {
    hits.set(server, (hits.get(server) ?? 0) + 1);
    req.resume();
    behave(res);
  });
  return server;
}
const hits = new Map<Server, number>();
const portOf = (server: Server) => (server.address() as AddressInfo).port;
const listen = (server: Server) => new Promise<void>((done) => server.listen(0, '127.0.0.1', done));

const ok = endpoint((res) => res.writeHead(204).end());
const elsewhere = endpoint((res) => res.writeHead(204).end());
const redirecting = endpoint((res) => res.writeHead(302, { location: `http://127.0.0.1:${portOf(elsewhere)}/` }).end());
// Answers 200 and then streams forever: only a bounded read lets the delivery finish.
const endless = endpoint((res) => {
  res.writeHead(200);
  const chunk = Buffer.alloc(64 * 1024, 120);
  const pump = () => {
    while (res.write(chunk)) {}
    res.once('drain', pump);
  };
  pump();
});
const silent = endpoint(() => undefined);
const servers = [ok, elsewhere, redirecting, endless, silent];

beforeAll(() => Promise.all(servers.map(listen)));
afterAll(() => {
  for (const server of servers) server.closeAllConnections();
  return Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
});

const fixed =
  (map: Record<string, string[]>): Resolver =>
  async (host) =>
    (map[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('the guarded egress for merchant notifications (real local HTTP servers)', () => {
  it('never connects to a loopback or private address on a deployed stack', async () => {
    const egress = new GuardedEgress(
      { allowLoopback: false },
      { resolve: fixed({ 'rebind.example.com': ['10.0.0.5'], 'mixed.example.com': ['93.184.216.34', '127.0.0.1'] }) },
    );
    for (const url of [
      `http://127.0.0.1:${portOf(ok)}/`,
      `https://127.0.0.1:${portOf(ok)}/`,
      'https://rebind.example.com/hook',
      'https://mixed.example.com/hook',
    ]) {
      const outcome = await egress.post(url, '{}', {});
      expect(outcome.error).toMatch(/^egress refused/);
      expect(outcome.httpStatus).toBeUndefined();
    }
    expect(hits.get(ok) ?? 0).toBe(0);
  });

  it('checks the address at connect time, so a name that resolved publicly at validation cannot be rebound', async () => {
    let answers = 0;
    const rebinding: Resolver = async () => [
      { address: answers++ === 0 ? '93.184.216.34' : '169.254.169.254', family: 4 },
    ];
    const egress = new GuardedEgress({ allowLoopback: false }, { resolve: rebinding });
    expect(await egress.problem('https://rebinding.example.com/hook')).toBeUndefined();
    const outcome = await egress.post('https://rebinding.example.com/hook', '{}', {});
    expect(outcome.error).toContain('169.254.169.254 is not a public address');
  });

  it('refuses at validation a name that resolves to a private address', async () => {
    const egress = new GuardedEgress({ allowLoopback: false }, { resolve: fixed({ 'db.example.com': ['10.0.0.9'] }) });
    expect(await egress.problem('https://db.example.com/')).toContain('10.0.0.9');
    expect(await egress.problem('https://169.254.169.254/latest/')).toContain('not a public address');
  });

  it('connects to exactly the address it checked (pinned), not to what another lookup would say', async () => {
    const egress = new GuardedEgress(
      { allowLoopback: true },
      { resolve: fixed({ 'merchant.localhost': ['127.0.0.1'] }) },
    );
    const before = hits.get(ok) ?? 0;
    // The system resolver here does not know `merchant.localhost`: only the checked answer can reach the server.
    const outcome = await egress.post(`http://merchant.localhost:${portOf(ok)}/hook`, '{"id":"evt_1"}', {});
    expect(outcome.httpStatus).toBe(204);
    expect(hits.get(ok)).toBe(before + 1);
  });

  it('does not follow redirects', async () => {
    const egress = new GuardedEgress({ allowLoopback: true });
    const outcome = await egress.post(`http://127.0.0.1:${portOf(redirecting)}/`, '{}', {});
    expect(outcome.httpStatus).toBe(302);
    expect(hits.get(elsewhere) ?? 0).toBe(0);
  });

  it('reads a bounded part of the answer and finishes while the merchant keeps sending', async () => {
    const egress = new GuardedEgress({ allowLoopback: true }, { timeoutMs: 120_000 });
    const outcome = await egress.post(`http://127.0.0.1:${portOf(endless)}/`, '{}', {});
    expect(outcome).toMatchObject({ httpStatus: 200 });
  });

  it('gives up after its timeout when the merchant never answers', async () => {
    const egress = new GuardedEgress({ allowLoopback: true }, { timeoutMs: 200 });
    const outcome = await egress.post(`http://127.0.0.1:${portOf(silent)}/`, '{}', {});
    expect(outcome.error).toBe('timeout');
    expect(hits.get(silent)).toBe(1);
  });
});

describe('who may turn loopback delivery on', () => {
  it('never a Lambda function, whatever its environment says', () => {
    const env = { TABLE_NAME: 't', PUBLIC_BASE_URL: 'https://api.example.com', ALLOW_LOOPBACK_HTTP: 'true' };
    expect(loadConfig(env).allowLoopbackHttp).toBe(true);
    expect(loadConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: 'pay-gateway-notify' }).allowLoopbackHttp).toBe(false);
  });

  it('gives a merchant default notify URL the same policy as a payment one, and stores nothing refused', async () => {
    const container = testContainer();
    for (const notifyUrl of [
      'https://169.254.169.254/latest/',
      'http://10.0.0.1/',
      'https://metadata.google.internal/',
    ]) {
      const id = uniqueId('mch');
      await expect(createMerchant(container, { id, name: 'ssrf', notifyUrl })).rejects.toMatchObject({
        code: 'NOTIFY_URL_INVALID',
      });
      expect(await container.merchants.get(id)).toBeUndefined();
    }
  });
});
