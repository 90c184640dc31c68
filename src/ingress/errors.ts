// One error envelope for every non-2xx answer (STYLE: openstatus "one error envelope"). Every 4xx names
// the offending field, so an operator reading Alertmanager's log knows what to fix.
import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { IngressConfig } from './config';
import { TemporalUnavailableError } from './starter';

export const ERROR_CODES = [
  'invalid_json',
  'invalid_body',
  'unsupported_media_type',
  'body_too_large',
  'unauthorized',
  'rate_limited',
  'host_not_allowed',
  'not_found',
  'method_not_allowed',
  /** A change the on-call roster refused (422), or one that conflicts with its state (409). */
  'refused',
  'conflict',
  'temporal_unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorIssue {
  field: string;
  message: string;
}

export interface ErrorEnvelope {
  error: {
    status: number;
    code: ErrorCode;
    message: string;
    /** The first offending field (`alerts[0].labels.alertname`, `authorization`, `body`). */
    field: string | null;
    issues?: ErrorIssue[];
  };
  requestId: string;
}

export class IngressError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field: string | null,
    readonly issues?: ErrorIssue[],
    /** Seconds, sent as Retry-After (429, 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'IngressError';
  }
}

/** `['alerts', 0, 'labels', 'alertname']` -> `alerts[0].labels.alertname`; the root is `body`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number' || (typeof part === 'string' && /^\d+$/.test(part)))
      out += `[${String(part)}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || 'body';
}

/** JSON pointer from the zod validator (`/alerts/0/labels`) -> `alerts[0].labels`. */
export function fieldFromPointer(pointer: string): string {
  const parts = pointer.split('/').filter((p) => p.length > 0);
  return fieldPath(parts);
}

export function envelope(err: IngressError, requestId: string): ErrorEnvelope {
  return {
    error: {
      status: err.status,
      code: err.code,
      message: err.message,
      field: err.field,
      ...(err.issues && err.issues.length > 0 ? { issues: err.issues } : {}),
    },
    requestId,
  };
}

/** Any error of a request -> the envelope's IngressError (Temporal away: 503 + Retry-After; bad body: 4xx). */
export function toIngressError(
  err: FastifyError | IngressError | Error,
  config: IngressConfig,
  /** The matched route's body limit, when it has its own. */
  bodyLimitBytes: number = config.bodyLimitBytes,
): IngressError {
  if (err instanceof IngressError) return err;
  if (err instanceof TemporalUnavailableError) {
    return new IngressError(
      503,
      'temporal_unavailable',
      'Temporal is unreachable; retry later (nothing was lost: the alert was not accepted)',
      null,
      undefined,
      config.retryAfterSeconds,
    );
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation
      .slice(0, 20)
      .map((v) => ({ field: fieldFromPointer(v.instancePath), message: v.message ?? 'invalid' }));
    const first = issues[0] ?? { field: 'body', message: 'invalid' };
    return new IngressError(400, 'invalid_body', `${first.field}: ${first.message}`, first.field, issues);
  }
  const code = (err as FastifyError).code;
  const status = (err as FastifyError).statusCode;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new IngressError(
      413,
      'body_too_large',
      `the body is over the ${bodyLimitBytes}-byte limit`,
      'body',
    );
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new IngressError(
      415,
      'unsupported_media_type',
      'send Content-Type: application/json',
      'content-type',
    );
  if (status !== undefined && status >= 400 && status < 500)
    return new IngressError(400, 'invalid_body', err.message.slice(0, 300), 'body');
  return new IngressError(500, 'internal', 'internal error', null);
}
