import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { FunctionSpec } from '#routes';
import type { GatewayData } from './gateway-data.ts';

/** The environment a function gets from its declared access: it names a key or secret only if the function may use it. */
export function accessEnvironment(
  access: FunctionSpec['access'],
  data: GatewayData,
  publicBaseUrl: string,
  sandboxEnabled: boolean,
): Record<string, string> {
  return {
    TABLE_NAME: data.table.tableName,
    PUBLIC_BASE_URL: publicBaseUrl,
    SANDBOX_ENABLED: String(sandboxEnabled),
    ...(access.merchantKey === 'decrypt' ? { MERCHANT_KEY_ID: data.merchantKey.keyId } : {}),
    ...(access.sandboxSecret ? { SANDBOX_SECRET_ARN: data.sandboxSecret.secretArn } : {}),
  };
}

/**
 * Grants exactly the declared access (least privilege). Merchant secrets are created and rotated from the merchant
 * CLI, never from a Lambda, so no function is granted `kms:Encrypt`.
 */
export function grantAccess(fn: IFunction, access: FunctionSpec['access'], data: GatewayData): void {
  if (access.table === 'readwrite') data.table.grantReadWriteData(fn);
  else data.table.grantReadData(fn);
  if (access.merchantKey === 'decrypt') data.merchantKey.grantDecrypt(fn);
  if (access.sandboxSecret) data.sandboxSecret.grantRead(fn);
}
