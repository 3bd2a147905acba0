import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isWebhookRequest } from '../../src/http/create-app.js';

describe('the webhook fast path', () => {
  test('only POST on the exact path, with or without a query string, takes the fast path', () => {
    assert.equal(isWebhookRequest('POST', '/webhooks/alertmanager'), true);
    assert.equal(isWebhookRequest('POST', '/webhooks/alertmanager?source=am-1'), true);
    for (const [method, url] of [
      ['GET', '/webhooks/alertmanager'],
      ['OPTIONS', '/webhooks/alertmanager'],
      ['POST', '/webhooks/alertmanager/'],
      ['POST', '/Webhooks/alertmanager'],
      ['POST', '/webhooks/alertmanagerx'],
      ['POST', '/api/runs'],
    ] as const) {
      assert.equal(isWebhookRequest(method, url), false, `${method} ${url}`);
    }
  });
});
