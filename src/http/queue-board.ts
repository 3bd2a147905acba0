import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';

/** A `<link>` to anything off this server: Bull Board's page asks a public CDN for its fonts. */
const remoteLink = /<link\b[^>]*\bhref=["']?(?:https?:)?\/\/[^>]*>\s*/gi;

/** The board's page without links off the machine: it works offline, and its CSS falls back to system fonts. */
export function withoutRemoteLinks(html: string): string {
  return html.replace(remoteLink, '');
}

/**
 * Bull Board's express adapter, made to answer as the rest of remediator does: no X-Powered-By, a page that
 * loads nothing from elsewhere, and errors handed to remediator's own error handler.
 */
class BoardAdapter extends ExpressAdapter {
  constructor() {
    super();
    // Bull Board makes an express app of its own, which would announce itself.
    this.app.disable('x-powered-by');
    // Bull Board offers no option for its font links (they are written in its index.ejs): its page is rewritten
    // as it is rendered. Registered before any of its routes, so it sees the entry page's render.
    this.app.use((_req, res, next) => {
      const render = res.render.bind(res);
      res.render = (view: string, options?: object) => {
        render(view, options ?? {}, (error: Error | null, html?: string) => {
          if (error) next(error);
          else res.send(withoutRemoteLinks(html ?? ''));
        });
      };
      next();
    });
  }

  /**
   * Bull Board answers a failing handler itself, with a 500 carrying the error's message: ioredis' text during a
   * Redis outage. Thrown from its error handler instead, the error reaches remediator's (express passes it on),
   * which answers a Redis outage with 503 and Retry-After, and anything else with a 500 that leaks nothing.
   */
  override setErrorHandler(): this {
    return super.setErrorHandler((error) => {
      throw error;
    });
  }
}

/**
 * Bull Board for the remediation queue, served under `basePath`. Auth, roles and security headers are the caller's
 * job. `readOnly`: the board of roles that may not act on jobs, without Retry, Promote, Clean or Pause buttons.
 */
export function createQueueBoard(options: { queues: readonly Queue[]; basePath: string; readOnly?: boolean }): Router {
  const serverAdapter = new BoardAdapter();
  serverAdapter.setBasePath(options.basePath);
  createBullBoard({
    queues: options.queues.map(
      (queue) => new BullMQAdapter(queue, { allowRetries: !options.readOnly, readOnlyMode: options.readOnly ?? false }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'remediator' } },
  });
  return serverAdapter.getRouter() as Router;
}
