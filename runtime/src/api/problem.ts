/** application/problem+json (RFC 9457) responses, and the error handler that turns every failure into one. */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '@flowcrew/sdk';
import { ProblemError } from '../errors.ts';

export function sendProblem(res: Response, status: number, title: string, detail: string, extra: Record<string, unknown> = {}): void {
  // A 401 says how to authenticate, as HTTP asks; the body says nothing about why the credential failed.
  if (status === 401) res.set('WWW-Authenticate', 'Bearer');
  res.status(status).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title, status, detail, ...extra }));
}

export const unauthenticated = () => new ProblemError(401, 'Unauthorized', 'authentication required: sign in, or send Authorization: Bearer <token>');

export function errorHandler(log: Logger, bodyLimit: string): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (res.headersSent) {
      // Failed mid-body (a streamed export): cut the connection so the client sees a failure, not a short file.
      log.error(`${req.method} ${req.originalUrl} failed while sending: ${(error as Error).message}`);
      res.destroy();
      return;
    }
    if (error instanceof ProblemError) {
      return sendProblem(res, error.status, error.title, error.message, { ...(error.issues.length ? { errors: error.issues } : {}), ...error.extra });
    }
    const status = (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode;
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendProblem(res, 400, 'Malformed JSON', `the request body is not valid JSON: ${(error as Error).message}`, { errors: [{ pointer: '/', message: (error as Error).message }] });
    if (type === 'entity.too.large') return sendProblem(res, 413, 'Payload Too Large', `the request body exceeds the limit of ${bodyLimit}`);
    if (status && status >= 400 && status < 500) return sendProblem(res, status, 'Bad Request', (error as Error).message);
    log.error(`${req.method} ${req.originalUrl} failed: ${(error as Error).stack ?? String(error)}`);
    // The stack and message stay in the log: they can name files, SQL or secrets.
    sendProblem(res, 500, 'Internal Server Error', 'the request failed unexpectedly; the runtime log has the details');
  };
}
