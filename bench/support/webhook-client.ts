import { benchToken } from './remediator.js';

/**
 * POSTs a webhook body to remediator; throws unless it answers 202. Returns the job ids it answered with (none for
 * a verbatim redelivery of a body it already accepted, answered `{ redelivered: true }`).
 */
export async function postWebhook(url: string, body: string): Promise<string[]> {
  const response = await fetch(`${url}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${benchToken}` },
    body,
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`webhook answered ${response.status}: ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { runs?: { jobId: string }[] }).runs?.map((run) => run.jobId) ?? [];
}
