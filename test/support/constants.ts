/** Fixed test-only values; nothing here is a real secret. */
export const TEST_TABLE = 'pay-gateway-test';
/** The run's reconciliation buckets (on the run's local S3), like the table named apart from `npm start`'s. */
export const TEST_BUCKETS = { bills: 'pay-gateway-bills-test', reports: 'pay-gateway-reports-test' } as const;
export const TEST_SECRETS = {
  masterKey: Buffer.alloc(32, 7).toString('base64'),
  sandboxSecret: 'sbx_test_secret',
};
/** Tests run every Wait state 1000 times faster: an hour's wait takes 3.6 s. */
export const TEST_WAIT_TIME_SCALE = 0.001;
/** A test's own notify queue redelivers a failed message after one second instead of the deployed minute. */
export const TEST_VISIBILITY_TIMEOUT_SECONDS = 1;
