import { describe, expect, it } from 'vitest';
import { FUNCTIONS, RECONCILE_WORKER, WORKERS } from '#routes';
import {
  type CfnResource,
  logicalIdOf,
  refersTo,
  roleStatements,
  type Statement,
  synthesizeGateway,
} from './gateway-template.ts';

const BUCKET_WRITES = ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObject*', 's3:PutObject*', 's3:Abort*'];

describe('reconciliation', () => {
  const { stack, template, resources } = synthesizeGateway();
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const functionOf = (id: string) => {
    const fn = stack.functions.get(id);
    if (!fn) throw new Error(`no function ${id}`);
    return fn;
  };
  const statementsOf = (id: string): Statement[] =>
    roleStatements(resources, logicalIdOf(functionOf(id).role as NonNullable<ReturnType<typeof functionOf>['role']>));
  const actionsOn = (statements: Statement[], logicalId: string): string[] =>
    statements
      .filter((statement) => statement.Effect === 'Allow')
      .filter((statement) => statement.Resource.some((resource) => refersTo(resource, logicalId)))
      .flatMap((statement) => statement.Action);
  const bills = logicalIdOf(stack.data.billsBucket);
  const reports = logicalIdOf(stack.data.reportsBucket);
  const filesKey = logicalIdOf(stack.data.filesKey);
  const reconcile = logicalIdOf(functionOf('Reconcile'));

  it('declares the reconciler among the workers', () => {
    expect(WORKERS).toContain(RECONCILE_WORKER);
    expect(RECONCILE_WORKER.trigger).toEqual({ kind: 'schedule', cron: 'cron(30 2 * * ? *)', billsCreated: '.csv' });
  });

  it('runs the reconciler daily at 02:30 UTC (10:30 Shanghai) from an EventBridge rule', () => {
    const rules = ofType('AWS::Events::Rule').filter(
      ([, rule]) => rule.Properties?.ScheduleExpression === 'cron(30 2 * * ? *)',
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.[1] as CfnResource;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'cron(30 2 * * ? *)', State: 'ENABLED' });
    const targets = rule.Properties?.Targets as { Arn: unknown }[];
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toEqual({ 'Fn::GetAtt': [reconcile, 'Arn'] });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [reconcile, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [rules[0]?.[0], 'Arn'] },
    });
  });

  it('reconciles every bill created under bills/ in the bills bucket, and unpacks every archive', () => {
    const notifications = ofType('Custom::S3BucketNotifications');
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.[1].Properties).toMatchObject({
      BucketName: { Ref: bills },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            LambdaFunctionArn: { 'Fn::GetAtt': [logicalIdOf(functionOf('FetchBills')), 'Arn'] },
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'suffix', Value: '.csv.zip' },
                  { Name: 'prefix', Value: 'bills/' },
                ],
              },
            },
          },
          {
            Events: ['s3:ObjectCreated:*'],
            LambdaFunctionArn: { 'Fn::GetAtt': [reconcile, 'Arn'] },
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'suffix', Value: '.csv' },
                  { Name: 'prefix', Value: 'bills/' },
                ],
              },
            },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [reconcile, 'Arn'] },
      Principal: 's3.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [bills, 'Arn'] },
    });
  });

  it('lets the reconciler read bills and write reports, and nothing more on either bucket', () => {
    const statements = statementsOf('Reconcile');
    const onBills = actionsOn(statements, bills);
    const onReports = actionsOn(statements, reports);
    expect(onBills.sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(onBills.filter((action) => BUCKET_WRITES.includes(action))).toEqual([]);
    expect(onReports).toEqual(['s3:PutObject']);
    expect(onReports.filter((action) => action.startsWith('s3:Get') || action.startsWith('s3:Delete'))).toEqual([]);
    const onKey = actionsOn(statements, filesKey);
    expect(onKey).toContain('kms:Decrypt');
    expect(onKey.some((action) => action.startsWith('kms:GenerateDataKey'))).toBe(true);
  });

  it('lets GetReconciliation read (and so presign) reports, but not write them nor read bills', () => {
    const statements = statementsOf('GetReconciliation');
    const onReports = actionsOn(statements, reports);
    expect(onReports.sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(onReports.filter((action) => BUCKET_WRITES.includes(action))).toEqual([]);
    expect(actionsOn(statements, bills)).toEqual([]);
    const onKey = actionsOn(statements, filesKey);
    expect(onKey).toContain('kms:Decrypt');
    expect(onKey.some((action) => action.startsWith('kms:GenerateDataKey') || action === 'kms:Encrypt')).toBe(false);
  });

  it('fetches bills hourly and lets FetchBills read and write bills, and nothing of the reports', () => {
    const fetcher = logicalIdOf(functionOf('FetchBills'));
    const rules = ofType('AWS::Events::Rule').filter(
      ([, rule]) => rule.Properties?.ScheduleExpression === 'cron(0 2-8 * * ? *)',
    );
    const targets = (rules[0]?.[1].Properties?.Targets ?? []) as { Arn: unknown }[];
    expect(targets[0]?.Arn).toEqual({
      'Fn::GetAtt': [fetcher, 'Arn'],
    });
    const statements = statementsOf('FetchBills');
    expect(actionsOn(statements, bills).sort()).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
    expect(actionsOn(statements, reports)).toEqual([]);
  });

  it('lets no other function touch either bucket or the files key', () => {
    for (const spec of [...FUNCTIONS.filter((f) => !f.sandboxOnly), ...WORKERS]) {
      if (['Reconcile', 'GetReconciliation', 'FetchBills'].includes(spec.id)) continue;
      const statements = statementsOf(spec.id);
      for (const name of [bills, reports, filesKey]) expect(actionsOn(statements, name), spec.id).toEqual([]);
    }
  });

  it('alarms on any ReconciliationMissingBill of the last day, hour by hour', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'PayGateway',
      MetricName: 'ReconciliationMissingBill',
      Dimensions: [{ Name: 'service', Value: 'pay-gateway' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 24,
      DatapointsToAlarm: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: logicalIdOf(stack.alarms.topic) }],
    });
  });

  it("alarms on the reconciler's errors", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: reconcile } }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: logicalIdOf(stack.alarms.topic) }],
    });
  });
});
