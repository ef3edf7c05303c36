/** Runtime configuration, read from the environment the CDK stack or the local stack sets. */
export interface GatewayConfig {
  tableName: string;
  /** Public base URL of the API (pay URLs, the sandbox cashier's callback target). */
  publicBaseUrl: string;
  /** `kms` (AWS) with `merchantKeyId`, or `local` with `localMasterKey` (base64, 32 bytes). */
  secretCipher: { kind: 'kms'; keyId: string } | { kind: 'local'; masterKey: string };
  /** Secrets Manager ARN of the sandbox channel secret (AWS) or the secret itself (local stack, tests). */
  sandboxSecret: { kind: 'secrets-manager'; arn: string } | { kind: 'env'; value: string };
  /** Only the local stack accepts `http://127.0.0.1/...` notify URLs. */
  allowLoopbackHttp: boolean;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

/** Reads the configuration once; a missing variable fails the cold start loudly instead of a request quietly. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return {
    tableName: required('TABLE_NAME'),
    publicBaseUrl: required('PUBLIC_BASE_URL').replace(/\/+$/, ''),
    secretCipher: env.MERCHANT_KEY_ID
      ? { kind: 'kms', keyId: env.MERCHANT_KEY_ID }
      : { kind: 'local', masterKey: required('LOCAL_MASTER_KEY') },
    sandboxSecret: env.SANDBOX_SECRET_ARN
      ? { kind: 'secrets-manager', arn: env.SANDBOX_SECRET_ARN }
      : { kind: 'env', value: required('SANDBOX_SECRET') },
    allowLoopbackHttp: env.ALLOW_LOOPBACK_HTTP === 'true',
  };
}
