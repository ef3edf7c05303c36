import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { WORKERS } from '#routes';
import { logicalIdOf, synthesizeGateway } from './gateway-template.ts';

describe('alarms and dashboard', () => {
  const { stack, template, resources } = synthesizeGateway();
  const alarmsWhere = (properties: Record<string, unknown>) =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: properties }));

  it('encrypts the alarm topic with a rotated key that CloudWatch may use, for this account only', () => {
    const key = logicalIdOf(stack.alarms.topicKey);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    expect(resources[key]?.Properties).toMatchObject({ EnableKeyRotation: true });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  // It synthesizes (and bundles) a second stack: minutes on a busy machine.
  it('subscribes no one by default, and the -c alarmEmail address when given', { timeout: 180_000 }, () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const withEmail = synthesizeGateway({ context: { alarmEmail: 'ops@example.com' } });
    withEmail.template.resourceCountIs('AWS::SNS::Subscription', 1);
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalIdOf(withEmail.stack.alarms.topic) },
    });
  });

  it("alarms on the API's 5xx share and p99 latency", () => {
    const api5xx = stack.alarms.alarms.get('Api5xxAlarm');
    expect(api5xx).toBeDefined();
    expect(JSON.stringify(resources[logicalIdOf(api5xx as NonNullable<typeof api5xx>)]?.Properties)).toContain('5xx');
    expect(alarmsWhere({ MetricName: 'Latency', Namespace: 'AWS/ApiGateway', ExtendedStatistic: 'p99' })).toHaveLength(
      1,
    );
  });

  it("alarms on each function's errors and throttles", () => {
    for (const [id, fn] of stack.functions) {
      const dimension = [{ Name: 'FunctionName', Value: { Ref: logicalIdOf(fn) } }];
      expect(alarmsWhere({ MetricName: 'Errors', Dimensions: dimension }), id).toHaveLength(1);
      expect(alarmsWhere({ MetricName: 'Throttles', Dimensions: dimension }), id).toHaveLength(1);
    }
    expect(stack.functions.size).toBeGreaterThanOrEqual(WORKERS.length);
  });

  it('alarms on table throttling, read and write', () => {
    const alarm = stack.alarms.alarms.get('TableThrottlesAlarm');
    const text = JSON.stringify(resources[logicalIdOf(alarm as NonNullable<typeof alarm>)]?.Properties);
    expect(text).toContain('ReadThrottleEvents');
    expect(text).toContain('WriteThrottleEvents');
  });

  it('alarms on forged callbacks and failed refund submissions from the Powertools namespace', () => {
    for (const name of ['CallbackSignatureRejected', 'CallbackSourceRejected', 'RefundSubmitFailed']) {
      expect(alarmsWhere({ MetricName: name, Namespace: 'PayGateway' }), name).toHaveLength(1);
    }
  });

  it('publishes a dashboard of payments, callbacks, reconciliation, errors and alarms', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties?.DashboardBody,
    );
    for (const title of [
      'Payment creation success rate',
      'Callbacks per channel',
      'Callback latency',
      'Reconciliation differences',
      'Function errors',
      'Alarms',
    ]) {
      expect(body, title).toContain(title);
    }
  });
});
