/**
 * Composition roots. Each Lambda function wires ONLY what it uses, in its own entry file (`functions/*.ts`), from the
 * parts in `./wiring/` — so its bundle carries only those adapters' SDK clients:
 *
 *   const wire = wiring((config, db) => {
 *     const table = tableParts(config, db);                    // config, clock, ids, alarms, merchant auth + rate limit
 *     const base = { ...table, ...paymentFlowParts(table) };   // + only the table adapters this function calls
 *     return { ...base, ...cipherParts(config), ...channelParts(base) };  // + KMS, + channels (Secrets Manager)
 *   });
 *   export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => …);
 *
 * Parts: `tableParts` and the table-adapter groups beside it in `./wiring/dynamo.ts` (`paymentRecords`, `walletRecords`,
 * `eventRecords`, `writeParts`, `channelStateParts`, `riskParts`, `feeParts`, `reconciliationRecords`,
 * `paymentFlowParts`; `dynamoParts` is all of them), `cipherParts` (KMS merchant-secret cipher: every authenticated route),
 * `channelParts` (payment channels + router), `egressParts` (merchant notify HTTP), `queueParts` (SQS),
 * `workflowParts` (Step Functions, or the host's in-process ones), `fileParts` (S3), `billParserParts` (bill parsers), `billIntakeParts`
 * (bill check, unzip, bill sources). A new adapter
 * goes into the part whose SDK client it uses (or a new part file), and only the functions that call it add that part.
 * A function entry must never import this module: it would bundle every part.
 *
 * This module is the WHOLE gateway in one object, for hosts that run everything in one process: the local stack's
 * seeding, the operator scripts, the bench and the tests.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type GatewayConfig, loadConfig } from '#shared/config.ts';
import { createDocumentClient } from './dynamo/client.ts';
import { channelParts } from './wiring/channels.ts';
import { cipherParts } from './wiring/cipher.ts';
import { dynamoParts } from './wiring/dynamo.ts';
import { billIntakeParts, fileParts } from './wiring/files.ts';
import { type HostOverrides, hostOverrides, setHostOverrides, sharedDocumentClient } from './wiring/host.ts';
import { egressParts, queueParts } from './wiring/notify.ts';
import { workflowParts } from './wiring/workflows.ts';

/** Adapters a host process hands in instead of the AWS ones: the local stack runs the workflows in process. */
export type ContainerOverrides = HostOverrides;

/**
 * Every adapter of every function, wired once (the host's composition root); `overrides` default to the ones set by
 * {@link setContainerOverrides}.
 */
export function createContainer(
  config: GatewayConfig = loadConfig(),
  overrides: ContainerOverrides = hostOverrides(),
  db: DynamoDBDocumentClient = createDocumentClient(),
) {
  const base = dynamoParts(config, db);
  return {
    ...base,
    ...cipherParts(config),
    ...channelParts(base),
    ...egressParts(config),
    ...queueParts(config),
    ...workflowParts(config, overrides),
    ...fileParts(config),
    ...billIntakeParts(config, base),
  };
}

export type Container = ReturnType<typeof createContainer>;

let container: Container | undefined;

/** The host's whole-gateway container, created on first use over the process's shared DynamoDB client. */
export function getContainer(): Container {
  container ??= createContainer(loadConfig(), hostOverrides(), sharedDocumentClient());
  return container;
}

/**
 * Sets the overrides of every container and function wiring created from now on, `getContainer`'s included (its
 * current one is dropped). Never called on Lambda; the local stack and tests call it before the handlers run.
 */
export function setContainerOverrides(overrides: ContainerOverrides): void {
  setHostOverrides(overrides);
  container = undefined;
}
