import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Workflows } from '#app/ports.ts';
import { type GatewayConfig, loadConfig } from '#shared/config.ts';
import { createDocumentClient } from '../dynamo/client.ts';

/** Adapters a host process hands in instead of the AWS ones: the local stack runs the workflows in process. */
export interface HostOverrides {
  workflows?: Workflows;
}

let overrides: HostOverrides = {};
let generation = 0;
let sharedDb: DynamoDBDocumentClient | undefined;

/** The overrides set by {@link setHostOverrides} (none on Lambda). */
export function hostOverrides(): HostOverrides {
  return overrides;
}

/**
 * Sets the overrides of every wiring built from now on; wirings already built are dropped and rebuilt on next use.
 * Never called on Lambda; the local stack and tests call it before the handlers run.
 */
export function setHostOverrides(next: HostOverrides): void {
  overrides = next;
  generation += 1;
}

/**
 * This process's DynamoDB client, shared by every wiring in it (one per Lambda environment; on the local stack every
 * function's handler shares it, so instrumenting it sees all their calls).
 */
export function sharedDocumentClient(): DynamoDBDocumentClient {
  sharedDb ??= createDocumentClient();
  return sharedDb;
}

/**
 * A function's composition root: `build` runs once, on first use, with the configuration and the shared DynamoDB
 * client, and builds only what that function uses (so its bundle holds only those adapters' SDK clients).
 */
export function wiring<T>(build: (config: GatewayConfig, db: DynamoDBDocumentClient) => T): () => T {
  let built: { value: T; generation: number } | undefined;
  return () => {
    if (built?.generation !== generation) built = { value: build(loadConfig(), sharedDocumentClient()), generation };
    return built.value;
  };
}
