import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createContainer } from '#adapters/container.ts';
import { createMerchant, rotateMerchantSecret, setMerchantStatus } from '#app/merchant-admin.ts';
import { MERCHANT_MODES, type MerchantMode } from '#domain/merchant.ts';
import { newId } from '#shared/ids.ts';
import { connectToRunningStack } from '../local/stack.ts';
import { asOperator } from './operator.ts';

const USAGE = `Usage: npm run merchant -- <command> [options]
  create --name NAME [--id ID] [--notify-url URL] [--mode live|test]
                                                     create a merchant; prints its secret ONCE. A test-mode
                                                     merchant's routed payments may use the sandbox (default live)
  rotate --id ID [--grace-seconds N]                 new secret; the old one works for N s more (default 86400)
  disable --id ID | enable --id ID                   block or unblock a merchant
  show --id ID                                        show a merchant (never its secret)
Targets the running local stack (npm start) unless TABLE_NAME is set, in which case it uses the AWS
environment (TABLE_NAME, MERCHANT_KEY_ID for KMS, AWS credentials/region as usual).`;

/** Points the CLI at the local stack started by `npm start`, unless the AWS environment is configured. */
function configure(): void {
  if (process.env.TABLE_NAME) {
    process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
    process.env.SANDBOX_SECRET_ARN ??= 'unused';
    return;
  }
  connectToRunningStack(resolve(import.meta.dirname, '..', '.local'));
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      id: { type: 'string' },
      'notify-url': { type: 'string' },
      mode: { type: 'string' },
      'grace-seconds': { type: 'string' },
    },
  });
  const command = positionals[0];
  if (!command || !['create', 'rotate', 'disable', 'enable', 'show'].includes(command)) {
    console.error(USAGE);
    process.exit(2);
  }
  if (command !== 'create' && !values.id) throw new Error(`${command} needs --id`);
  configure();
  const container = createContainer();
  const id = values.id ?? newId('mch');
  switch (command) {
    case 'create': {
      if (!values.name) throw new Error('create needs --name');
      const mode = values.mode ?? 'live';
      if (!isMerchantMode(mode)) throw new Error(`--mode must be one of ${MERCHANT_MODES.join(', ')}`);
      const { merchant, secret } = await createMerchant(container, {
        id,
        name: values.name,
        notifyUrl: values['notify-url'],
        mode,
      });
      console.log(JSON.stringify({ merchant_id: merchant.id, mode, merchant_secret: secret }, null, 2));
      console.error('Store this secret now: it is kept only encrypted and cannot be shown again.');
      break;
    }
    case 'rotate': {
      const grace = values['grace-seconds'] === undefined ? 86_400 : Number(values['grace-seconds']);
      if (!Number.isInteger(grace) || grace < 0) throw new Error('--grace-seconds must be a non-negative integer');
      const { merchant, secret } = await rotateMerchantSecret(container, id, grace);
      console.log(
        JSON.stringify(
          {
            merchant_id: merchant.id,
            merchant_secret: secret,
            previous_secret_valid_until: merchant.previousSecretExpiresAt ?? null,
          },
          null,
          2,
        ),
      );
      break;
    }
    case 'disable':
    case 'enable': {
      const merchant = await setMerchantStatus(container, id, command === 'disable' ? 'DISABLED' : 'ACTIVE');
      console.log(JSON.stringify({ merchant_id: merchant.id, status: merchant.status }));
      break;
    }
    case 'show': {
      const merchant = await container.merchants.get(id);
      if (!merchant) throw new Error(`merchant ${id} not found`);
      const { secretCiphertext: _s, previousSecretCiphertext: _p, ...visible } = merchant;
      console.log(JSON.stringify(visible, null, 2));
      break;
    }
  }
}

function isMerchantMode(value: string): value is MerchantMode {
  return (MERCHANT_MODES as readonly string[]).includes(value);
}

asOperator(main).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
