/** Fixed test-only values; nothing here is a real secret. */
export const TEST_TABLE = 'pay-gateway-test';
export const TEST_SECRETS = {
  masterKey: Buffer.alloc(32, 7).toString('base64'),
  sandboxSecret: 'sbx_test_secret',
};
