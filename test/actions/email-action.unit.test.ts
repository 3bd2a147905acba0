import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ActionDefinition } from '../../src/core/action.js';
import { createEmailAction } from '../../src/actions/email-action.js';
import { errorCodes } from '../../src/core/errors/index.js';
import { appError, runAction } from '../helpers/action-run.js';

const from = 'remediator@example.com';

const run = (action: ActionDefinition, withBlock: Record<string, unknown>) => runAction(action, withBlock);

describe('email action', () => {
  test('the schema rejects an address carrying a line break or a second address', () => {
    const action = createEmailAction({ transport: undefined, from });
    for (const to of ['oncall@example.com\r\nBcc: evil@x.example', 'a@example.com, evil@x.example', 'not-an-address']) {
      assert.equal(action.schema.safeParse({ to, subject: 's', text: 't' }).success, false, JSON.stringify(to));
    }
  });

  test('without a transport the step fails permanently and says SMTP_URL must be configured', async () => {
    const action = createEmailAction({ transport: undefined, from });
    await assert.rejects(
      run(action, { to: 'oncall@example.com', subject: 'unconfigured', text: 'x' }),
      appError(errorCodes.STEP_PERMANENT, /SMTP_URL/),
    );
  });
});
