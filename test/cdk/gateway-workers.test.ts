import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NOTIFY_TIMEOUT_MS } from '#adapters/http-notifier.ts';
import { STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { WORKERS } from '#routes';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '#shared/retry-schedule.ts';
import { notifyRetrySettings } from '../../lib/worker-settings.ts';
import { type CfnResource, logicalIdOf, synthesizeGateway } from './gateway-template.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('gateway workers and workflows', () => {
  const { stack, template, resources } = synthesizeGateway();
  const functionId = (id: string): string => {
    const fn = stack.functions.get(id);
    if (!fn) throw new Error(`no function ${id}`);
    return logicalIdOf(fn);
  };
  const ofType = (type: string): CfnResource[] => Object.values(resources).filter((r) => r.Type === type);
  const mappingOf = (id: string): Record<string, unknown> => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      (mapping) => JSON.stringify(mapping.Properties?.FunctionName) === JSON.stringify({ Ref: functionId(id) }),
    );
    expect(mappings, id).toHaveLength(1);
    return mappings[0]?.Properties ?? {};
  };
  const variablesOf = (id: string): Record<string, unknown> =>
    (resources[functionId(id)]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables ?? {};
  const workflows = [
    { workflow: 'notify-retry', stateMachine: stack.workflows.notifyRetry, definition: STATE_MACHINES.notifyRetry },
    { workflow: 'order-expiry', stateMachine: stack.workflows.orderExpiry, definition: STATE_MACHINES.orderExpiry },
  ] as const;

  it('relays the table stream from its oldest record, reporting partial batch failures', () => {
    expect(mappingOf('OutboxRelay')).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(stack.data.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
    });
  });

  it('gives up on a poison stream batch after bounded retries and records it in the relay failure queue', () => {
    const mapping = mappingOf('OutboxRelay');
    expect(mapping.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(mapping.MaximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(mapping.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(stack.data.relayFailures), 'Arn'] } },
    });
  });

  it('invokes the relay only for inserted events, pending payments, reservations, processing refunds, and approvals', () => {
    const { Filters } = mappingOf('OutboxRelay').FilterCriteria as { Filters: { Pattern: string }[] };
    expect(Filters.map((filter) => JSON.parse(filter.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['EVENT'] } } } },
      { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['PAYMENT'] }, status: { S: ['PENDING'] } } } },
      { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['VOLUME_RESERVATION'] } } } },
      {
        eventName: ['MODIFY'],
        dynamodb: {
          NewImage: {
            entity: { S: ['PAYMENT'] },
            status: { S: ['PENDING'] },
            risk: { M: { review: { M: { status: { S: ['APPROVED'] } } } } },
            syncAt: { S: [{ exists: true }] },
            syncAttempts: { N: [{ exists: false }] },
          },
        },
      },
      { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['REFUND'] }, status: { S: ['PROCESSING'] } } } },
    ]);
  });

  it('consumes the notify queue ten messages at a time, at bounded concurrency, reporting partial batch failures', () => {
    expect(mappingOf('Notify')).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(stack.data.notifyQueue), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  });

  it("gives every delivering function time for the merchant's full acknowledgement window", () => {
    for (const id of ['Notify', 'NotifyAttempt']) {
      expect(resources[functionId(id)]?.Properties?.Timeout, id).toBeGreaterThan(NOTIFY_TIMEOUT_MS / 1000);
    }
  });

  it("configures the contract's retry schedule and jitter only for the function that starts the retries", () => {
    for (const spec of WORKERS) {
      const variables = variablesOf(spec.id);
      if (spec.access.startNotifyRetry) {
        expect(variables, spec.id).toMatchObject({
          NOTIFY_RETRY_SCHEDULE: DEFAULT_RETRY_SCHEDULE_SECONDS.join(','),
          NOTIFY_RETRY_JITTER: '0.2',
        });
      } else {
        expect('NOTIFY_RETRY_SCHEDULE' in variables, spec.id).toBe(false);
        expect('NOTIFY_RETRY_JITTER' in variables, spec.id).toBe(false);
      }
    }
    expect(variablesOf('Notify').NOTIFY_RETRY_SCHEDULE).toBe('1,5,30,120,600,1800,3600,7200,21600,54000');
  });

  it('takes the retry schedule from the CDK context, as a string or an array, and rejects a malformed one', () => {
    expect(notifyRetrySettings()).toEqual({ schedule: DEFAULT_RETRY_SCHEDULE_SECONDS.join(','), jitter: '0.2' });
    expect(notifyRetrySettings('1, 2,3').schedule).toBe('1,2,3');
    expect(notifyRetrySettings([1, 5, 30]).schedule).toBe('1,5,30');
    expect(() => notifyRetrySettings('1,soon')).toThrow(/invalid retry schedule/);
    expect(() => notifyRetrySettings(42)).toThrow(/comma-separated/);
  });

  it('creates both workflows as named Standard state machines from the shared ASL files', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', workflows.length);
    for (const { stateMachine, definition } of workflows) {
      const properties = resources[logicalIdOf(stateMachine)]?.Properties ?? {};
      expect(properties).toMatchObject({ StateMachineName: definition.name, StateMachineType: 'STANDARD' });
      const asl = readFileSync(join(projectRoot, definition.aslPath), 'utf8');
      expect(JSON.parse(String(properties.DefinitionString))).toEqual(JSON.parse(asl));
    }
  });

  it("substitutes every task of each workflow with its own function's ARN, leaving no placeholder", () => {
    for (const { workflow, stateMachine } of workflows) {
      const properties = resources[logicalIdOf(stateMachine)]?.Properties ?? {};
      const substitutions = properties.DefinitionSubstitutions as Record<string, unknown>;
      let deployed = String(properties.DefinitionString);
      for (const [name, value] of Object.entries(substitutions)) {
        deployed = deployed.replaceAll(`\${${name}}`, JSON.stringify(value));
      }
      expect(deployed, workflow).not.toMatch(/\$\{/);
      const tasks = WORKERS.flatMap((spec) =>
        spec.trigger.kind === 'state-machine-task' && spec.trigger.stateMachine === workflow
          ? [{ id: spec.id, substitution: spec.trigger.substitution }]
          : [],
      );
      expect(tasks.length, workflow).toBeGreaterThan(0);
      expect(Object.keys(substitutions).sort(), workflow).toEqual(tasks.map((task) => task.substitution).sort());
      for (const task of tasks) {
        expect(substitutions[task.substitution], task.id).toEqual({ 'Fn::GetAtt': [functionId(task.id), 'Arn'] });
        expect(deployed, task.id).toContain(JSON.stringify({ 'Fn::GetAtt': [functionId(task.id), 'Arn'] }));
      }
    }
  });

  it('traces the workflows and logs every event, without execution data, for one month', () => {
    for (const { stateMachine, definition } of workflows) {
      const properties = resources[logicalIdOf(stateMachine)]?.Properties ?? {};
      expect(properties.TracingConfiguration).toEqual({ Enabled: true });
      const logging = properties.LoggingConfiguration as {
        Level: string;
        IncludeExecutionData: boolean;
        Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[];
      };
      expect(logging).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
      const logGroup = resources[logging.Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0] ?? ''];
      expect(logGroup?.Properties).toMatchObject({
        LogGroupName: `/aws/vendedlogs/states/${definition.name}`,
        RetentionInDays: 30,
      });
    }
  });

  it('alarms on dead letters, batches the relay re-drive gave up on and failed workflow executions', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map((alarm) => alarm.Properties ?? {});
    const onQueue = (queue: Parameters<typeof logicalIdOf>[0]) =>
      alarms.find(
        (alarm) =>
          alarm.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(alarm.Dimensions).includes(`"${logicalIdOf(queue)}"`),
      );
    for (const queue of [stack.data.notifyDeadLetters, stack.data.relayUndeliverable]) {
      expect(onQueue(queue)).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
    // A skipped batch alone alarms nobody: the scheduled re-drive relays it; only one it gives up on alarms.
    expect(onQueue(stack.data.relayFailures)).toBeUndefined();
    for (const { stateMachine } of workflows) {
      expect(
        alarms.some(
          (alarm) =>
            alarm.MetricName === 'ExecutionsFailed' &&
            JSON.stringify(alarm.Dimensions).includes(`"${logicalIdOf(stateMachine)}"`),
        ),
      ).toBe(true);
    }
  });

  it('re-drives the relay failures every 5 minutes (EventBridge), granted only the failure queues and the stream', () => {
    const rules = ofType('AWS::Events::Rule').map((rule) => rule.Properties ?? {});
    const redrive = logicalIdOf(stack.workers.functions.get('RelayRedrive') as Parameters<typeof logicalIdOf>[0]);
    expect(
      rules.some(
        (rule) =>
          rule.ScheduleExpression === 'rate(5 minutes)' && JSON.stringify(rule.Targets).includes(`"${redrive}"`),
      ),
    ).toBe(true);
  });

  it('alarms on the first NotificationFailed, LatePaymentSuccess and CallbackAmountMismatch in five minutes', () => {
    for (const metricName of ['NotificationFailed', 'LatePaymentSuccess', 'CallbackAmountMismatch']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'PayGateway',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: 'pay-gateway' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('sends every alarm to the alarm topic, which has no subscription', () => {
    const topic = logicalIdOf(stack.alarms.topic);
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBe(stack.alarms.alarms.size);
    for (const alarm of alarms) expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topic }]);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('outputs the queue URLs, the state machine ARNs and the alarm topic ARN', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.NotifyQueueUrl?.Value).toEqual({ Ref: logicalIdOf(stack.data.notifyQueue) });
    expect(outputs.NotifyDeadLetterQueueUrl?.Value).toEqual({ Ref: logicalIdOf(stack.data.notifyDeadLetters) });
    expect(outputs.OutboxRelayFailureQueueUrl?.Value).toEqual({ Ref: logicalIdOf(stack.data.relayFailures) });
    expect(outputs.OutboxRelayUndeliverableQueueUrl?.Value).toEqual({
      Ref: logicalIdOf(stack.data.relayUndeliverable),
    });
    expect(outputs.NotifyRetryStateMachineArn?.Value).toEqual({ Ref: logicalIdOf(stack.workflows.notifyRetry) });
    expect(outputs.OrderExpiryStateMachineArn?.Value).toEqual({ Ref: logicalIdOf(stack.workflows.orderExpiry) });
    expect(outputs.AlarmTopicArn?.Value).toEqual({ Ref: logicalIdOf(stack.alarms.topic) });
  });
});
