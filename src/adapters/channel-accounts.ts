import { createHash } from 'node:crypto';
import type { ChannelProfiles, ChannelSecrets } from '#app/ports.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import type { ChannelSecret, ConfigurableChannel } from '#domain/channel-fields.ts';
import { UnavailableError } from '#shared/errors.ts';

/** Options of {@link ChannelAccounts}. */
export interface ChannelAccountsOptions {
  /** How long a loaded configuration is used before the profile is read again, ms. */
  ttlMs: number;
  clock: () => Date;
}

interface Entry {
  config: unknown;
  /** The profile version (`updatedAt`) the configuration was built from. */
  version: string;
  /** Hash of profile + secret: an unchanged one keeps the same configuration object (and the adapter its client). */
  fingerprint: string;
  checkedAt: number;
}

/**
 * The external channels' configuration as the adapters use it: profile (table) + secret (secret store), cached for
 * a short TTL. After the TTL the profile is read again (one consistent `GetItem`); a changed profile version
 * (`updatedAt`, which `npm run channel -- set` always moves) re-reads the secret past the secret store's own cache
 * at once, so a rotated key or a changed URL is used by the next call after the TTL, on every container.
 */
export class ChannelAccounts {
  private readonly entries = new Map<ConfigurableChannel, Entry>();

  constructor(
    private readonly profiles: Pick<ChannelProfiles, 'get'>,
    private readonly secrets: ChannelSecrets,
    private readonly options: ChannelAccountsOptions,
  ) {}

  /**
   * The channel's configuration as `build` makes it from profile and secret; the same object while neither changed.
   * `503 CHANNEL_UNAVAILABLE` when the channel has no profile.
   */
  async config<T>(channel: ConfigurableChannel, build: (profile: ChannelProfile, secret: ChannelSecret) => T) {
    const now = this.options.clock().getTime();
    const entry = this.entries.get(channel);
    if (entry && now - entry.checkedAt < this.options.ttlMs) return entry.config as T;
    const profile = await this.profiles.get(channel);
    if (!profile) throw new UnavailableError('CHANNEL_UNAVAILABLE', `${channel} is not configured`);
    const secret = await this.secrets.get(profile.secretRef, { fresh: entry?.version !== profile.updatedAt });
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([profile, secret]))
      .digest('base64');
    if (entry?.fingerprint === fingerprint) {
      entry.checkedAt = now;
      return entry.config as T;
    }
    const config = build(profile, secret);
    this.entries.set(channel, { config, version: profile.updatedAt, fingerprint, checkedAt: now });
    return config;
  }
}
