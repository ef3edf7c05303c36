import { Aspects } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildGateway } from './gateway-template.ts';

/** Synthesis with the AwsSolutions checks takes seconds alone, far longer while the other CDK test files run. */
const NAG_TIMEOUT_MS = 180_000;

/**
 * The unsuppressed AwsSolutions errors of a freshly built gateway, as `rule: construct path` lines. The findings stay
 * annotations (not cdk.json's validation report, which would throw at the first one), so a failure lists them all.
 */
function nagErrors(sandboxEnabled: boolean): string[] {
  const { app, stack } = buildGateway({
    sandboxEnabled,
    context: { '@aws-cdk/core:annotationsInValidationReport': false },
  });
  Aspects.of(app).add(new AwsSolutionsChecks());
  return Annotations.fromStack(stack)
    .findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
    .map((finding) => `${String(finding.entry.data).split(':')[0]}: ${finding.id}`);
}

describe('cdk-nag AwsSolutions', () => {
  it('finds no unsuppressed error in the production stack', { timeout: NAG_TIMEOUT_MS }, () => {
    expect(nagErrors(false)).toEqual([]);
  });

  it('finds no unsuppressed error in the sandbox stack', { timeout: NAG_TIMEOUT_MS }, () => {
    expect(nagErrors(true)).toEqual([]);
  });
});
