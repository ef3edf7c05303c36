import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { SecretsManagerChannelSecrets } from '#adapters/channel-secrets.ts';
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
const EVERY_FUNCTION = [...FUNCTIONS, ...WORKERS];
/**
 * The functions that call Alipay / WeChat Pay (`OutboxRelay` may expire an order at the channel itself; `Reconcile`
 * confirms a mismatch with the channel before repairing it).
 */
const CHANNEL_CALLERS = [
  'CreatePayment',
  'ClosePayment',
  'CreateRefund',
  'GetRefund',
  'Callback',
  'OutboxRelay',
  'ExpireBucket',
  'Reconcile',
];
/** The channel secrets' ARNs: Secrets Manager appends `-` and six random characters to the name. */
const CHANNEL_SECRETS_ARN =
  'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:pay-gateway/channels/*';

describe('least privilege', () => {
  const { stack, resources } = synthesizeGateway();
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
      const table = logicalIdOf(stack.data.table);
      for (const action of TABLE_WRITES) {
        expect(allows(statements, action, table), `${spec.id} ${action}`).toBe(spec.access.table === 'readwrite');
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

  it('lets only the functions that declare it start each workflow', () => {
    const notifyRetry = logicalIdOf(stack.workflows.notifyRetry);
    const orderExpiry = logicalIdOf(stack.workflows.orderExpiry);
    for (const spec of EVERY_FUNCTION) {
      const statements = statementsOf(spec.id);
      expect(allows(statements, 'states:StartExecution', notifyRetry), spec.id).toBe(
        spec.access.startNotifyRetry === true,
      );
      expect(allows(statements, 'states:StartExecution', orderExpiry), spec.id).toBe(
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
