import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { sendError } from './http-errors.js';

/** Why a request's client certificate was refused, or ok. */
export type ClientCertificateCheck = { ok: true } | { ok: false; status: 401 | 403; code: string; message: string };

/**
 * The verdict on the client certificate of `req`'s connection, for a server that asks for one (TLS_CLIENT_CA_FILE)
 * without TLS requiring it: none is a 401, one the CA did not sign (or expired) a 403 with OpenSSL's reason.
 */
export function checkClientCertificate(req: IncomingMessage): ClientCertificateCheck {
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.authorized === true) return { ok: true };
  const presented = typeof socket.getPeerCertificate === 'function' && Object.keys(socket.getPeerCertificate()).length > 0;
  if (!presented)
    return {
      ok: false,
      status: 401,
      code: 'CLIENT_CERTIFICATE_REQUIRED',
      message:
        'the webhook requires a client certificate signed by TLS_CLIENT_CA_FILE (Alertmanager: http_config.tls_config.cert_file/key_file)',
    };
  return {
    ok: false,
    status: 403,
    code: 'CLIENT_CERTIFICATE_REFUSED',
    message: `the client certificate is not accepted: ${String(socket.authorizationError ?? 'not signed by TLS_CLIENT_CA_FILE')}`,
  };
}

/** Wraps a handler so that it runs only for requests whose connection presented a verified client certificate. */
export function requireClientCertificate(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  refused: (check: Exclude<ClientCertificateCheck, { ok: true }>) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const check = checkClientCertificate(req);
    if (check.ok) {
      handler(req, res);
      return;
    }
    refused(check);
    sendError(res, check.status, check.code, check.message);
  };
}
