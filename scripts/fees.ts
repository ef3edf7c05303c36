import { createContainer } from '#adapters/container.ts';
import { changeFeeSchedule, getFeeSchedule } from '#app/fees.ts';
import { DEFAULT_FEE_SCOPE } from '#domain/fees.ts';
import { type CliSpec, command, connectTarget, runIfMain, UsageError } from './cli.ts';

/** Points the CLI at its target and builds the container (the AWS environment needs no public URL or sandbox). */
function container() {
  if (connectTarget() === 'aws') {
    process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
    process.env.SANDBOX_SECRET_ARN ??= 'unused';
  }
  return createContainer();
}

const scope = { merchant: { type: 'string' } } as const;
const ruleKey = { channel: { type: 'string' }, method: { type: 'string' }, from: { type: 'string' } } as const;

function required(values: Record<string, string | undefined>, ...names: string[]): void {
  const missing = names.filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new UsageError(`${missing.map((name) => `--${name}`).join(', ')} required`);
}

/** `npm run fees`: show and change the fee schedules (docs/finance.md "Fees and settlement"). */
export const feesCli: CliSpec = {
  name: 'fees',
  summary: 'Show and change the merchant fee schedules (versioned; every change is audited).',
  footer: `A schedule is the DEFAULT one or a merchant's own (--merchant ID); a merchant's rule wins over the default's for its
channel and method. Each change is a new version, effective now or at --from (never in the past), so a paid
payment keeps its fee. Targets the running local stack (npm start) unless TABLE_NAME is set (the AWS environment).`,
  commands: {
    show: command({
      summary: 'show a schedule with every version',
      usage: '[--merchant ID]',
      options: scope,
      run: async (values) => getFeeSchedule(container(), values.merchant ?? DEFAULT_FEE_SCOPE),
    }),
    set: command({
      summary: 'set the rule of a channel and method (a new version)',
      usage: '--channel C --method M|* --percent P [--fixed F] --bearer MERCHANT|GATEWAY [--merchant ID] [--from T]',
      details: `  --channel C        SANDBOX, ALIPAY, WECHAT_PAY or BALANCE
  --method M         QR, PAGE, WAP, H5, JSAPI, APP, BALANCE, or * (the channel's other methods)
  --percent P        percent of the amount (0.6 = 0.6 %), rounded half up to the minor unit
  --fixed F          fixed amount per payment in the payment's currency (default 0), e.g. 0.10
  --bearer B         MERCHANT (deducted from its settlement) or GATEWAY (absorbed by the gateway)
  --merchant ID      the merchant's own schedule (default: the DEFAULT schedule)
  --from T           ISO 8601 time the version takes effect (default: now; never in the past)
Example: npm run fees -- set --channel ALIPAY --method '*' --percent 0.6 --bearer MERCHANT`,
      options: {
        ...scope,
        ...ruleKey,
        percent: { type: 'string' },
        fixed: { type: 'string' },
        bearer: { type: 'string' },
      },
      async run(values) {
        required(values, 'channel', 'method', 'percent', 'bearer');
        // The use case validates every value (zod + the domain's decimal rules): a bad one changes nothing.
        return changeFeeSchedule(container(), {
          scope: values.merchant ?? DEFAULT_FEE_SCOPE,
          channel: values.channel as string,
          method: values.method as string,
          percent: values.percent,
          fixed: values.fixed,
          bearer: values.bearer,
          effectiveFrom: values.from,
        });
      },
    }),
    remove: command({
      summary: 'remove the rule of a channel and method (a new version)',
      usage: '--channel C --method M|* [--merchant ID] [--from T]',
      options: { ...scope, ...ruleKey },
      async run(values) {
        required(values, 'channel', 'method');
        return changeFeeSchedule(container(), {
          scope: values.merchant ?? DEFAULT_FEE_SCOPE,
          channel: values.channel as string,
          method: values.method as string,
          effectiveFrom: values.from,
          remove: true,
        });
      },
    }),
  },
};

runIfMain(import.meta.filename, feesCli);
