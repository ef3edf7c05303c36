import { resolve } from 'node:path';
import type { Container } from '#adapters/container.ts';
import { LocalGateway } from '../../local/gateway.ts';
import { MerchantClient } from '../../local/merchant-client.ts';
import { newMerchant, testContainer } from './fixtures.ts';
import { watchGatewayResponses } from './openapi-conformance.ts';

/**
 * The local HTTP gateway on a free port, serving the real handlers against the run's DynamoDB Local. Every answer it
 * gives is checked against the OpenAPI document (`stop()` fails when one did not conform).
 */
export async function startHttpStack(): Promise<{
  apiBase: string;
  container: Container;
  newClient: () => Promise<{ client: MerchantClient; merchantId: string; secret: string }>;
  stop: () => Promise<void>;
}> {
  const gateway = new LocalGateway(resolve(import.meta.dirname, '../..'));
  const apiBase = await gateway.listen(0);
  process.env.PUBLIC_BASE_URL = apiBase;
  const container = testContainer();
  const conformance = watchGatewayResponses(apiBase);
  return {
    apiBase,
    container,
    async newClient() {
      const { merchant, secret } = await newMerchant(container);
      return {
        client: new MerchantClient({ apiBase, merchantId: merchant.id, merchantSecret: secret }),
        merchantId: merchant.id,
        secret,
      };
    },
    stop: async () => {
      await gateway.close();
      conformance.stop();
    },
  };
}
