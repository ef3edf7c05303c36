import { describe, expect, it } from 'vitest';
import { CachedMerchantRepository } from '#adapters/dynamo/merchant-repository.ts';
import type { MerchantRepository } from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';

const merchant = (id: string, status: Merchant['status'] = 'ACTIVE'): Merchant => ({
  id,
  name: id,
  status,
  secretCiphertext: 'ciphertext',
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});

/** A store of merchants that counts its reads; `now` is the cache's clock (ms). */
function setup(ttlMs = 1000, maxEntries = 1000) {
  const stored = new Map<string, Merchant>([['m1', merchant('m1')]]);
  let reads = 0;
  let now = 0;
  const inner: MerchantRepository = {
    get: async (id) => {
      reads++;
      return stored.get(id);
    },
    create: async (m) => !stored.has(m.id) && Boolean(stored.set(m.id, m)),
    update: async (m) => {
      stored.set(m.id, m);
    },
  };
  const cache = new CachedMerchantRepository(inner, ttlMs, () => now, maxEntries);
  return {
    cache,
    stored,
    reads: () => reads,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('CachedMerchantRepository', () => {
  it('answers from memory within the TTL and reads again after it', async () => {
    const { cache, stored, reads, advance } = setup();
    expect((await cache.get('m1'))?.status).toBe('ACTIVE');
    stored.set('m1', merchant('m1', 'DISABLED')); // another container's change
    advance(999);
    expect((await cache.get('m1'))?.status).toBe('ACTIVE');
    expect(reads()).toBe(1);
    advance(1);
    expect((await cache.get('m1'))?.status).toBe('DISABLED');
    expect(reads()).toBe(2);
  });

  it('caches an unknown merchant too, within the TTL', async () => {
    const { cache, reads } = setup();
    expect(await cache.get('nobody')).toBeUndefined();
    expect(await cache.get('nobody')).toBeUndefined();
    expect(reads()).toBe(1);
  });

  it.each([
    ['update', (c: CachedMerchantRepository) => c.update(merchant('m1', 'DISABLED'), 'x')],
    ['create', (c: CachedMerchantRepository) => c.create(merchant('m1', 'DISABLED')).then(() => undefined)],
  ])('its own %s drops the cached copy', async (_label, write) => {
    const { cache, stored, reads } = setup();
    await cache.get('m1');
    stored.delete('m1');
    await write(cache);
    await cache.get('m1');
    expect(reads()).toBe(2);
  });

  it('keeps at most maxEntries merchants, dropping the oldest', async () => {
    const { cache, reads } = setup(1000, 2);
    for (const id of ['a', 'b', 'c']) await cache.get(id);
    await cache.get('c');
    await cache.get('b');
    expect(reads()).toBe(3);
    await cache.get('a');
    expect(reads()).toBe(4);
  });
});
