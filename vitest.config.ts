import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/worker-env.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    pool: 'forks',
    maxWorkers: 2,
    // The JSON report lets CI print a plain "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'coverage/vitest-report.json' },
    // Generous bounds against a hang, never speed claims: CI shares 2 cores with other work (tests that took 60–90 s
    // at a load average of 30 would fail a 120 s bound at a heavier one).
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
