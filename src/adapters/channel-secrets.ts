import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ChannelSecrets } from '#app/ports.ts';
import type { ChannelSecret } from '#domain/channel-fields.ts';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Options of {@link SecretsManagerChannelSecrets}. */
export interface SecretsManagerChannelSecretsOptions {
  /** KMS key the secrets are encrypted under (the AWS-managed key when absent). */
  kmsKeyId?: string;
  /** How long a read is cached in this container (Powertools' cache), seconds. Default 300. */
  maxAgeSeconds?: number;
  /** Prefix of the secret names this store creates. Default `pay-gateway/channels/`. */
  prefix?: string;
  client?: SecretsManagerClient;
}

/**
 * Channel secrets in AWS Secrets Manager, encrypted under the given KMS key. Reads go through Powertools'
 * `getSecret` (cached per container for `maxAgeSeconds` unless `fresh`); writes (the CLI) create the secret or put
 * a new version.
 */
export class SecretsManagerChannelSecrets implements ChannelSecrets {
  private readonly client: SecretsManagerClient;

  constructor(private readonly options: SecretsManagerChannelSecretsOptions = {}) {
    this.client = options.client ?? new SecretsManagerClient({});
  }

  async get(secretRef: string, options: { fresh?: boolean } = {}): Promise<ChannelSecret> {
    const value = await getSecret<string>(secretRef, {
      maxAge: this.options.maxAgeSeconds ?? 300,
      forceFetch: options.fresh === true,
    });
    if (typeof value !== 'string' || value === '') throw new Error(`channel secret ${secretRef} is empty`);
    return parseSecret(value, secretRef);
  }

  /** Returns the secret's ARN, the `secretRef` to store on the profile. */
  async put(name: string, secret: ChannelSecret): Promise<string> {
    assertName(name);
    const secretId = `${this.options.prefix ?? 'pay-gateway/channels/'}${name}`;
    const secretString = JSON.stringify(secret);
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: secretId,
          SecretString: secretString,
          KmsKeyId: this.options.kmsKeyId,
          Description: `Payment channel secret ${name} (pay-gateway)`,
        }),
      );
      return created.ARN ?? secretId;
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
    }
    const updated = await this.client.send(
      new PutSecretValueCommand({ SecretId: secretId, SecretString: secretString }),
    );
    return updated.ARN ?? secretId;
  }
}

/**
 * Channel secrets on one machine: `<dir>/<name>.json` (normally `.local/channels/`), mode 0600 in a 0700 directory.
 * The `secretRef` is the file's base name.
 */
export class LocalChannelSecrets implements ChannelSecrets {
  constructor(private readonly dir: string) {}

  async get(secretRef: string): Promise<ChannelSecret> {
    const file = this.fileOf(secretRef);
    if (!existsSync(file)) throw new Error(`channel secret ${secretRef} does not exist`);
    return parseSecret(readFileSync(file, 'utf8'), secretRef);
  }

  async put(name: string, secret: ChannelSecret): Promise<string> {
    const file = this.fileOf(name);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Written under a temporary name first, so a reader never sees half a file.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(secret, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
    return name;
  }

  private fileOf(name: string): string {
    assertName(name);
    return join(this.dir, `${name}.json`);
  }
}

/** Parses a secret's JSON; the error never quotes the value. */
export function parseSecret(text: string, ref: string): ChannelSecret {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`channel secret ${ref} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`channel secret ${ref} must be a JSON object`);
  }
  return value as ChannelSecret;
}

function assertName(name: string): void {
  if (!NAME.test(name)) throw new Error(`a channel secret name is 1-64 of [A-Za-z0-9_-], not ${JSON.stringify(name)}`);
}
