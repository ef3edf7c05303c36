import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '#routes';
import {
  allIdentityStatements,
  logicalIdOf,
  refersTo,
  roleStatements,
  type Statement,
  synthesizeGateway,
} from './gateway-template.ts';

const DATA_SERVICES = /^(dynamodb|kms|secretsmanager):/;
const TABLE_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

describe('least privilege', () => {
  const { stack, resources } = synthesizeGateway();
  const merchantKey = logicalIdOf(stack.data.merchantKey);
  const sandboxSecret = logicalIdOf(stack.data.sandboxSecret);
  const statementsOf = (functionId: string): Statement[] => {
    const role = stack.api.functions.get(functionId)?.role;
    if (!role) throw new Error(`no role for ${functionId}`);
    return roleStatements(resources, logicalIdOf(role));
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

  it('grants the merchant key, the sandbox secret and table writes exactly as each FUNCTIONS entry declares', () => {
    for (const spec of FUNCTIONS) {
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

  it('never lets a function encrypt with the merchant key (merchant secrets are written from the CLI)', () => {
    for (const spec of FUNCTIONS) {
      const statements = statementsOf(spec.id).filter((statement) =>
        statement.Resource.some((resource) => refersTo(resource, merchantKey)),
      );
      expect(statements.flatMap((statement) => statement.Action)).toEqual(statements.length ? ['kms:Decrypt'] : []);
    }
  });

  it('never grants DynamoDB, KMS or Secrets Manager actions on every resource', () => {
    // Key policies are resource policies, where Resource "*" means "this key"; only identity policies are checked.
    const wildcards = allIdentityStatements(resources).filter(
      (statement) => statement.Resource.includes('*') && statement.Action.some((action) => DATA_SERVICES.test(action)),
    );
    expect(wildcards).toEqual([]);
    expect(allIdentityStatements(resources).length).toBeGreaterThan(FUNCTIONS.length);
  });
});
