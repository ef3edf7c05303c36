import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ChannelProfiles } from '#app/ports.ts';
import { StaleStateError } from '#app/ports.ts';
import type { AuditRecord } from '#domain/audit.ts';
import { allowlistProblems } from '#domain/callback-allowlist.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import { CONFIGURABLE_CHANNELS, type ConfigurableChannel, secretLookingSettings } from '#domain/channel-fields.ts';
import { auditPut } from './audit-log.ts';
import { channelKeys } from './channel-keys.ts';
import { fromItem, guardedPut, transactOrStale } from './items.ts';

/** The only attributes a profile item may hold besides its keys: no secret field can be smuggled in. */
const PROFILE_FIELDS = [
  'channel',
  'enabled',
  'methods',
  'currencies',
  'singleLimitMinor',
  'dailyLimitMinor',
  'weight',
  'secretRef',
  'settings',
  'callbackAllowlist',
  'updatedAt',
] as const satisfies readonly (keyof ChannelProfile)[];

/**
 * Channel profiles (`CHANNEL#{code}` / `PROFILE`): routing attributes and non-secret settings only. Writes are
 * conditional (create only if absent, replace only if `updatedAt` is still the one read) and refuse any setting that
 * looks like secret material. `list` may be served from a short in-container cache; this container's writes
 * invalidate it.
 */
export class DynamoChannelProfileRepository implements ChannelProfiles {
  private cached?: { profiles: ChannelProfile[]; until: number };

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { cacheTtlMs?: number } = {},
  ) {}

  async get(channel: ConfigurableChannel): Promise<ChannelProfile | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: channelKeys.profile(channel), ConsistentRead: true }),
    );
    return Item ? toProfile(Item) : undefined;
  }

  async list(): Promise<ChannelProfile[]> {
    if (this.cached && this.cached.until > performance.now()) return this.cached.profiles;
    const { Responses, UnprocessedKeys } = await this.db.send(
      new BatchGetCommand({
        RequestItems: { [this.tableName]: { Keys: CONFIGURABLE_CHANNELS.map(channelKeys.profile) } },
      }),
    );
    if (UnprocessedKeys?.[this.tableName]?.Keys?.length) {
      const all = await Promise.all(CONFIGURABLE_CHANNELS.map((channel) => this.get(channel)));
      return this.remember(all.filter((profile) => profile !== undefined));
    }
    const profiles = (Responses?.[this.tableName] ?? []).map(toProfile);
    return this.remember(profiles.sort((a, b) => a.channel.localeCompare(b.channel)));
  }

  /**
   * Creates (`expectedUpdatedAt` null) or replaces a profile conditional on the `updatedAt` read;
   * `StaleStateError` when it changed meanwhile (or already exists).
   */
  async put(profile: ChannelProfile, expectedUpdatedAt: string | null, audit?: AuditRecord): Promise<void> {
    assertProfile(profile);
    const item = Object.fromEntries(PROFILE_FIELDS.map((name) => [name, profile[name]]));
    try {
      await transactOrStale(this.db, [
        guardedPut(
          this.tableName,
          { ...channelKeys.profile(profile.channel), entity: 'CHANNEL_PROFILE', ...item },
          { attribute: 'updatedAt', expected: expectedUpdatedAt ?? undefined },
        ),
        ...(audit ? [auditPut(this.tableName, audit)] : []),
      ]);
    } catch (error) {
      if (error instanceof StaleStateError) {
        throw new StaleStateError(`the ${profile.channel} profile changed concurrently`);
      }
      throw error;
    } finally {
      this.cached = undefined;
    }
  }

  private remember(profiles: ChannelProfile[]): ChannelProfile[] {
    const ttl = this.options.cacheTtlMs ?? 0;
    if (ttl > 0) this.cached = { profiles, until: performance.now() + ttl };
    return profiles;
  }
}

/** Rejects a profile that is malformed or carries secret material. */
export function assertProfile(profile: ChannelProfile): void {
  if (!CONFIGURABLE_CHANNELS.includes(profile.channel)) throw new Error(`${profile.channel} has no profile`);
  const secretLooking = secretLookingSettings(profile.settings);
  if (secretLooking.length > 0) {
    throw new Error(`settings ${secretLooking.join(', ')} look secret: put them in the secret file, not the profile`);
  }
  if (!Number.isFinite(profile.weight) || profile.weight < 0) throw new Error('weight must be a number ≥ 0');
  const badRanges = allowlistProblems(profile.callbackAllowlist ?? []);
  if (badRanges.length > 0) throw new Error(`callback allowlist: ${badRanges.join('; ')}`);
  for (const limit of [profile.singleLimitMinor, profile.dailyLimitMinor]) {
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit <= 0)) {
      throw new Error('limits must be positive integers of minor units');
    }
  }
}

function toProfile(item: Record<string, unknown>): ChannelProfile {
  const raw = fromItem<Record<string, unknown>>(item);
  return Object.fromEntries(
    PROFILE_FIELDS.filter((name) => raw[name] !== undefined).map((name) => [name, raw[name]]),
  ) as unknown as ChannelProfile;
}
