import type { Response } from 'express';

/** One approval-link page: a heading, what it is about, and, on the confirmation page only, the form. */
export interface LinkPage {
  status: number;
  title: string;
  message: string;
  /** Label → value rows (run, playbook, target, …). */
  facts?: readonly (readonly [string, string])[];
  /** The confirmation form: it POSTs to the page's own address. */
  form?: { decision: 'approved' | 'rejected' };
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML content and quoted attributes: labels and annotations are data from alerts. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => escapes[char] ?? char);
}

// Inline styles only (the admin CSP allows them); no script, no external resource: the page works on a phone
// with nothing but this server reachable.
const style = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0;word-break:break-all}
button{font-size:1.1rem;padding:.6rem 1.4rem;border-radius:.3rem;border:1px solid #555;cursor:pointer}
.approved{background:#1b7f3b;color:#fff}.rejected{background:#b3261e;color:#fff}textarea{width:100%;min-height:4rem}`;

/** The whole HTML document of `page`. */
export function renderLinkPage(page: LinkPage): string {
  const facts = page.facts?.length
    ? `<dl>${page.facts.map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`
    : '';
  const verb = page.form?.decision === 'approved' ? 'Approve' : 'Reject';
  // Without an action a form posts to the page's own address (the token is in it); the token is not repeated in the body.
  const form = page.form
    ? `<form method="post"><p><label for="comment">Comment (optional)</label><br><textarea id="comment" name="comment" maxlength="2000"></textarea></p><p><button type="submit" class="${page.form.decision}">${verb} this run</button></p></form>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(page.title)} · remediator</title><style>${style}</style></head><body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.message)}</p>${facts}${form}</body></html>`;
}

/** Sends `page`, never cached: what it says (pending, used, decided) changes. */
export function sendLinkPage(res: Response, page: LinkPage): void {
  res.status(page.status);
  res.setHeader('Cache-Control', 'no-store');
  res.type('html').send(renderLinkPage(page));
}
