// Over 250 lines: one assertion group per function's grants; the table of who may do what reads best in one place.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { SecretsManagerChannelSecrets } from '#adapters/channel-secrets.ts';
import { ORDER_EXPIRY_STATE_MACHINE } from '#adapters/queue-definitions.ts';
import { FUNCTIONS, WORKERS } from '#routes';
import { CHANNEL_SECRETS_PREFIX } from '../../lib/gateway-data.ts';
import {
  allIdentityStatements,
  type CfnResource,
  logicalIdOf,
  refersTo,
  roleStatements,
  type Statement,
  synthesizeGateway,
  textOf,
} from './gateway-template.ts';

const GUARDED_SERVICES = /^(dynamodb|kms|secretsmanager|sqs|states):/;
/**
 * `dynamodb:ListStreams` has no resource type in IAM (it only lists stream ARNs, never items), so the table stream
 * event source's grant of it cannot name the table.
 */
const UNSCOPABLE_ACTIONS = ['dynamodb:ListStreams'];
const TABLE_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
/** Table actions no function's code path calls. */
const NEVER_GRANTED = ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:*'];
/** The functions that only read (and, when merchant-facing, claim a request nonce). */
const READ_ONLY = ['Balance', 'Ledger', 'GetPayment', 'GetEvent', 'GetReconciliation'];
const EVERY_FUNCTION = [...FUNCTIONS, ...WORKERS];
/**
 * The functions that call Alipay / WeChat Pay (`OutboxRelay` and `RelayRedrive` may expire an order at the channel
 * itself; `Reconcile` confirms a mismatch with the channel before repairing it).
 */
const CHANNEL_CALLERS = [
  'CreatePayment',
  'ClosePayment',
  'CreateRefund',
  'GetRefund',
  'Callback',
  'OutboxRelay',
  'RelayRedrive',
  'ExpireBucket',
  'Reconcile',
  // Downloads Alipay's and WeChat Pay's bills through their signed clients.
  'FetchBills',
];
/** The channel secrets' ARNs: Secrets Manager appends `-` and six random characters to the name. */
const CHANNEL_SECRETS_ARN =
  'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:pay-gateway/channels/*';

describe('least privilege', () => {
  // With the sandbox enabled: every FUNCTIONS entry exists (the sandbox cashier only then).
  const { stack, resources } = synthesizeGateway({ sandboxEnabled: true });
  const table = logicalIdOf(stack.data.table);
  const tableArn = { 'Fn::GetAtt': [table, 'Arn'] };
  /** The DynamoDB actions a function may call, per resource (`table`, `index/GSI2`…) and condition. */
  const dynamoGrants = (functionId: string) =>
    statementsOf(functionId)
      .filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')))
      .flatMap((statement) =>
        statement.Resource.map((resource) => ({
          on: JSON.stringify(resource) === JSON.stringify(tableArn) ? 'table' : textOf(resource).replace(/^.*\//, ''),
          actions: [...statement.Action].sort(),
          condition: statement.Condition,
        })),
      );
  const merchantKey = logicalIdOf(stack.data.merchantKey);
  const sandboxSecret = logicalIdOf(stack.data.sandboxSecret);
  const roleOf = (construct: IConstruct & { role?: IConstruct }): IConstruct => {
    if (!construct.role) throw new Error(`no role for ${construct.node.path}`);
    return construct.role;
  };
  const statementsOf = (functionId: string): Statement[] => {
    const fn = stack.functions.get(functionId);
    if (!fn) throw new Error(`no function ${functionId}`);
    return roleStatements(resources, logicalIdOf(roleOf(fn)));
  };
  const allows = (statements: Statement[], action: string, logicalId: string) =>
    statements.some(
      (statement) =>
        statement.Effect === 'Allow' &&
        statement.Action.includes(action) &&
        statement.Resource.some((resource) => refersTo(resource, logicalId)),
    );

  it('lets the callback read the sandbox secret but not decrypt with the merchant key', () => {
    const callback = statementsOf('Callback');
    expect(allows(callback, 'secretsmanager:GetSecretValue', sandboxSecret)).toBe(true);
    expect(callback.some((statement) => statement.Resource.some((resource) => refersTo(resource, merchantKey)))).toBe(
      false,
    );
  });

  it('lets payment creation decrypt with the merchant key', () => {
    expect(allows(statementsOf('CreatePayment'), 'kms:Decrypt', merchantKey)).toBe(true);
  });

  it('grants the merchant key, the sandbox secret and table writes exactly as each entry declares', () => {
    for (const spec of EVERY_FUNCTION) {
      const statements = statementsOf(spec.id);
      expect(allows(statements, 'kms:Decrypt', merchantKey), spec.id).toBe(spec.access.merchantKey === 'decrypt');
      expect(allows(statements, 'secretsmanager:GetSecretValue', sandboxSecret), spec.id).toBe(
        spec.access.sandboxSecret,
      );
      const unconditional = statements.filter((statement) => !statement.Condition);
      for (const action of TABLE_WRITES) {
        expect(allows(unconditional, action, table), `${spec.id} ${action}`).toBe(
          (spec.access.table.actions as readonly string[]).includes(action.replace('dynamodb:', '')),
        );
      }
    }
  });

  it('grants each function exactly the table actions its code path calls, on the table and the indexes it queries', () => {
    for (const spec of EVERY_FUNCTION) {
      const { actions, indexes = [] } = spec.access.table;
      const grants = dynamoGrants(spec.id).filter((grant) => !grant.condition);
      const onTable = grants.filter((grant) => grant.on === 'table').flatMap((grant) => grant.actions);
      expect(onTable.sort(), spec.id).toEqual(actions.map((action) => `dynamodb:${action}`).sort());
      const onIndexes = grants.filter((grant) => grant.on.startsWith('GSI'));
      expect(onIndexes, spec.id).toEqual(indexes.map((index) => ({ on: index, actions: ['dynamodb:Query'] })));
    }
  });

  it('never grants Scan, DeleteItem, BatchWriteItem or dynamodb:* to any function', () => {
    for (const spec of EVERY_FUNCTION) {
      const actions = statementsOf(spec.id).flatMap((statement) => statement.Action);
      for (const action of NEVER_GRANTED) expect(actions, spec.id).not.toContain(action);
    }
  });

  it('lets the read-only functions read, and write nothing but request nonces and rate-limit buckets', () => {
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem', ...NEVER_GRANTED];
    for (const id of READ_ONLY) {
      const grants = dynamoGrants(id);
      const writing = grants.filter((grant) => grant.actions.some((action) => writes.includes(action)));
      expect(writing, id).toEqual([
        {
          on: 'table',
          actions: ['dynamodb:PutItem'],
          condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['NONCE#*'] } },
        },
        {
          on: 'table',
          actions: ['dynamodb:UpdateItem'],
          condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RATE#*'] } },
        },
      ]);
      const reads = grants.filter((grant) => !grant.condition).flatMap((grant) => grant.actions);
      expect(
        reads.every((action) => ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'].includes(action)),
        id,
      ).toBe(true);
    }
  });

  it('gives the balance function GetItem only: no write, no Query, no Scan', () => {
    const balance = dynamoGrants('Balance');
    expect(balance.filter((grant) => !grant.condition)).toEqual([
      { on: 'table', actions: ['dynamodb:GetItem'], condition: undefined },
    ]);
    expect(balance.flatMap((grant) => grant.actions)).not.toContain('dynamodb:Scan');
    expect(balance.filter((grant) => grant.condition).flatMap((grant) => grant.actions)).toEqual([
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('gives the not-found function no DynamoDB action and no use of the data key', () => {
    const statements = statementsOf('NotFound');
    expect(
      statements.flatMap((statement) => statement.Action).filter((action) => action.startsWith('dynamodb:')),
    ).toEqual([]);
    expect(
      statements.filter((statement) => statement.Resource.some((r) => refersTo(r, logicalIdOf(stack.data.dataKey)))),
    ).toEqual([]);
  });

  it('lets every merchant-authenticated function claim nonces and lease rate-limit tokens', () => {
    for (const spec of FUNCTIONS.filter((f) => f.access.merchantKey === 'decrypt')) {
      expect(allows(statementsOf(spec.id), 'dynamodb:PutItem', table), spec.id).toBe(true);
      expect(allows(statementsOf(spec.id), 'dynamodb:UpdateItem', table), spec.id).toBe(true);
    }
  });

  it('lets every function use the data key without wildcard actions, and the table key only through DynamoDB', () => {
    const dataKey = logicalIdOf(stack.data.dataKey);
    for (const spec of EVERY_FUNCTION) {
      const id = spec.id;
      // The sandbox secret's grant (Secret.grantRead) decrypts with the data key through Secrets Manager.
      const uses = statementsOf(id).filter(
        (statement) =>
          statement.Resource.some((r) => refersTo(r, dataKey)) &&
          !textOf(statement.Condition?.StringEquals?.['kms:ViaService'] ?? '').startsWith('secretsmanager.'),
      );
      const actions = uses.flatMap((statement) => statement.Action);
      expect(
        actions.filter((action) => action.includes('*')),
        id,
      ).toEqual([]);
      // The table stream consumer's read grant (its event source's, by CDK) decrypts and describes unconditioned.
      const streamRead = (statement: Statement) =>
        'trigger' in spec &&
        spec.trigger.kind === 'table-stream' &&
        statement.Action.every((action) => action === 'kms:Decrypt' || action === 'kms:DescribeKey');
      for (const statement of uses.filter((u) => !streamRead(u))) {
        expect(textOf(statement.Condition?.StringEquals?.['kms:ViaService']), id).toBe(
          'dynamodb.<AWS::Region>.amazonaws.com',
        );
      }
    }
  });

  it('lets only the functions that declare it send to the notify queue and its dead-letter queue', () => {
    const notifyQueue = logicalIdOf(stack.data.notifyQueue);
    const deadLetters = logicalIdOf(stack.data.notifyDeadLetters);
    for (const spec of EVERY_FUNCTION) {
      const statements = statementsOf(spec.id);
      expect(allows(statements, 'sqs:SendMessage', notifyQueue), spec.id).toBe(spec.access.notifyQueue === true);
      expect(allows(statements, 'sqs:SendMessage', deadLetters), spec.id).toBe(spec.access.notifyDeadLetters === true);
    }
    const senders = EVERY_FUNCTION.filter((spec) => allows(statementsOf(spec.id), 'sqs:SendMessage', deadLetters));
    expect(senders.map((spec) => spec.id)).toEqual(['NotifyFailed']);
  });

  it('lets only the notify queue consumer receive and delete its messages', () => {
    const notifyQueue = logicalIdOf(stack.data.notifyQueue);
    for (const spec of EVERY_FUNCTION) {
      const statements = statementsOf(spec.id);
      const consumes = 'trigger' in spec && spec.trigger.kind === 'notify-queue';
      expect(allows(statements, 'sqs:ReceiveMessage', notifyQueue), spec.id).toBe(consumes);
      expect(allows(statements, 'sqs:DeleteMessage', notifyQueue), spec.id).toBe(consumes);
    }
  });

  it('lets only the relay re-drive consume the relay failure queue, park in the final queue and read the stream', () => {
    const failures = logicalIdOf(stack.data.relayFailures);
    const undeliverable = logicalIdOf(stack.data.relayUndeliverable);
    for (const spec of EVERY_FUNCTION) {
      const statements = statementsOf(spec.id);
      const redrives = spec.access.relayFailures === true;
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage']) {
        expect(allows(statements, action, failures), `${spec.id} ${action}`).toBe(redrives);
      }
      // The stream mapping records a skipped batch with its function's role (the relay's on-failure destination).
      const recordsFailures = 'trigger' in spec && spec.trigger.kind === 'table-stream';
      expect(allows(statements, 'sqs:SendMessage', failures), spec.id).toBe(redrives || recordsFailures);
      expect(allows(statements, 'sqs:SendMessage', undeliverable), spec.id).toBe(redrives);
      expect(allows(statements, 'sqs:ReceiveMessage', undeliverable), spec.id).toBe(false);
    }
    expect(EVERY_FUNCTION.filter((spec) => spec.access.relayFailures).map((spec) => spec.id)).toEqual(['RelayRedrive']);
    const streamReads = statementsOf('RelayRedrive').filter((statement) =>
      statement.Action.includes('dynamodb:GetRecords'),
    );
    expect(streamReads).toHaveLength(1);
    expect(streamReads[0]?.Action.sort()).toEqual(['dynamodb:GetRecords', 'dynamodb:GetShardIterator']);
    expect(textOf(streamReads[0]?.Resource[0])).toContain('StreamArn');
  });

  it('lets only the functions that declare it start each workflow', () => {
    const notifyRetry = logicalIdOf(stack.workflows.notifyRetry);
    const orderExpiry = logicalIdOf(stack.workflows.orderExpiry);
    for (const spec of EVERY_FUNCTION) {
      const statements = statementsOf(spec.id);
      expect(allows(statements, 'states:StartExecution', notifyRetry), spec.id).toBe(
        spec.access.startNotifyRetry === true,
      );
      // ExpireBucket, its own task, names it by its fixed ARN (a reference would be a dependency cycle).
      const byName = statements.some(
        (statement) =>
          statement.Effect === 'Allow' &&
          statement.Action.includes('states:StartExecution') &&
          JSON.stringify(statement.Resource).includes(`:stateMachine:${ORDER_EXPIRY_STATE_MACHINE}"`),
      );
      expect(allows(statements, 'states:StartExecution', orderExpiry) || byName, spec.id).toBe(
        spec.access.startOrderExpiry === true,
      );
    }
  });

  it('lets each state machine invoke exactly its own task functions', () => {
    for (const [workflow, stateMachine] of [
      ['notify-retry', stack.workflows.notifyRetry],
      ['order-expiry', stack.workflows.orderExpiry],
    ] as const) {
      const statements = roleStatements(resources, logicalIdOf(roleOf(stateMachine)));
      const invoked = statements.filter((statement) => statement.Action.some((action) => action.startsWith('lambda:')));
      expect(invoked.flatMap((statement) => statement.Action)).toEqual(invoked.map(() => 'lambda:InvokeFunction'));
      const invokable = [...stack.functions.entries()]
        .filter(([, fn]) => invoked.some((statement) => statement.Resource.some((r) => refersTo(r, logicalIdOf(fn)))))
        .map(([id]) => id)
        .sort();
      const tasks = WORKERS.filter(
        (spec) => spec.trigger.kind === 'state-machine-task' && spec.trigger.stateMachine === workflow,
      ).map((spec) => spec.id);
      expect(invokable, workflow).toEqual([...tasks].sort());
      expect(invoked.flatMap((statement) => statement.Resource)).not.toContain('*');
    }
  });

  it('declares channel secrets access for exactly the functions that call an external channel', () => {
    const declared = EVERY_FUNCTION.filter((spec) => spec.access.channelSecrets === true).map((spec) => spec.id);
    expect(declared.sort()).toEqual([...CHANNEL_CALLERS].sort());
  });

  it('lets exactly the functions that declare it read the channel secrets, by their name prefix', () => {
    for (const spec of EVERY_FUNCTION) {
      const reads = statementsOf(spec.id).filter((statement) =>
        statement.Resource.some((resource) => textOf(resource).endsWith(':secret:pay-gateway/channels/*')),
      );
      if (spec.access.channelSecrets) {
        expect(reads, spec.id).toEqual([
          { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [expect.anything()] },
        ]);
        expect(textOf(reads[0]?.Resource[0]), spec.id).toBe(CHANNEL_SECRETS_ARN);
      } else {
        expect(reads, spec.id).toEqual([]);
      }
    }
  });

  it('lets exactly the functions that declare it decrypt with the channel-secrets key, only through Secrets Manager', () => {
    const channelKey = logicalIdOf(stack.data.channelSecretsKey);
    for (const spec of EVERY_FUNCTION) {
      const uses = statementsOf(spec.id).filter((statement) =>
        statement.Resource.some((resource) => refersTo(resource, channelKey)),
      );
      if (!spec.access.channelSecrets) {
        expect(uses, spec.id).toEqual([]);
        continue;
      }
      expect(uses, spec.id).toEqual([
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt'],
          Resource: [{ 'Fn::GetAtt': [channelKey, 'Arn'] }],
          Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
        },
      ]);
      expect(textOf(uses[0]?.Condition?.StringEquals?.['kms:ViaService'])).toBe(
        'secretsmanager.<AWS::Region>.amazonaws.com',
      );
    }
  });

  it("grants the channel-secrets key in the functions' policies only, never in the key policy", () => {
    const keyPolicy = JSON.stringify(
      (resources[logicalIdOf(stack.data.channelSecretsKey)] as CfnResource).Properties?.KeyPolicy,
    );
    for (const fn of stack.functions.values()) {
      expect(keyPolicy, fn.node.path).not.toContain(`"${logicalIdOf(roleOf(fn))}"`);
    }
  });

  it('grants the prefix under which the channel CLI creates the secrets', async () => {
    const names: unknown[] = [];
    const client = {
      send: async (command: { input: { Name?: unknown } }) => {
        names.push(command.input.Name);
        return { ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pay-gateway/channels/alipay-Ab12Cd' };
      },
    } as unknown as SecretsManagerClient;
    await new SecretsManagerChannelSecrets({ client }).put('alipay', { privateKey: 'x' });
    expect(names).toEqual([`${CHANNEL_SECRETS_PREFIX}alipay`]);
    expect(CHANNEL_SECRETS_ARN.endsWith(`:secret:${CHANNEL_SECRETS_PREFIX}*`)).toBe(true);
  });

  it('never lets a function encrypt with the merchant key (merchant secrets are written from the CLI)', () => {
    for (const spec of EVERY_FUNCTION) {
      const statements = statementsOf(spec.id).filter((statement) =>
        statement.Resource.some((resource) => refersTo(resource, merchantKey)),
      );
      expect(statements.flatMap((statement) => statement.Action)).toEqual(statements.length ? ['kms:Decrypt'] : []);
    }
  });

  it('never grants DynamoDB, KMS, Secrets Manager, SQS or Step Functions actions on every resource', () => {
    // Key policies are resource policies, where Resource "*" means "this key"; only identity policies are checked.
    const wildcards = allIdentityStatements(resources).filter(
      (statement) =>
        statement.Resource.includes('*') &&
        statement.Action.some((action) => GUARDED_SERVICES.test(action) && !UNSCOPABLE_ACTIONS.includes(action)),
    );
    expect(wildcards).toEqual([]);
    expect(allIdentityStatements(resources).length).toBeGreaterThan(EVERY_FUNCTION.length);
  });
});
