import { randomBytes } from 'node:crypto';
import { type Container, createContainer } from '#adapters/container.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { loadConfig } from '#shared/config.ts';

/** A container wired to the test run's DynamoDB Local (the real adapters, no mocks). */
export function testContainer(overrides: Partial<Container> = {}): Container {
  return { ...createContainer(loadConfig()), ...overrides };
}

/** A unique id, so tests share one table without seeing each other's data. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A fresh merchant with a known secret. */
export async function newMerchant(container: Container, overrides: { notifyUrl?: string } = {}) {
  const id = uniqueId('mch');
  const { merchant, secret } = await createMerchant(container, { id, name: `Test ${id}`, ...overrides });
  return { merchant, secret };
}
