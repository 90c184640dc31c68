// The inference API's one error envelope `{error, message, details, request_id, timestamp}`
// (trading-platform.md "Errors from the inference API"); both simulated services use it.
// Invalid input -> 400 is decided here and nowhere else.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

export type ErrorCode =
  | 'validation_error'
  | 'unauthorized'
  | 'not_found'
  | 'model_not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'internal_error'
  | 'model_error'
  | 'service_unavailable';

export interface ValidationIssue {
  field: string;
  message: string;
  type: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}

export const BODY_LIMIT_BYTES = 1_048_576; // "bodies over 1 MB get 413"

export function errorBody(
  request: FastifyRequest,
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> | null,
) {
  return { error: code, message, details, request_id: request.id, timestamp: new Date().toISOString() };
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** zod issues in FastAPI's shape: field `body.reason`, pydantic's "Field required"/"missing" for absent keys. */
export function toValidationIssues(error: z.ZodError, input: unknown, location: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const base = [location, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        issues.push({
          field: [...base, key].join('.'),
          message: 'Extra inputs are not permitted',
          type: 'extra_forbidden',
        });
    } else if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      issues.push({ field: base.join('.'), message: 'Field required', type: 'missing' });
    } else {
      issues.push({ field: base.join('.'), message: issue.message, type: issue.code });
    }
  }
  return issues;
}

export function validationError(issues: ValidationIssue[]): ApiError {
  return new ApiError(400, 'validation_error', 'Request validation failed', { validation_errors: issues });
}

export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  location: 'body' | 'query' | 'path',
): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationError(toValidationIssues(result.error, input, location));
  return result.data;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply {
  return reply.code(err.statusCode).send(errorBody(request, err.code, err.message, err.details));
}

/** Maps every failure, including Fastify's own (413, bad JSON), onto the envelope. */
export function installErrorHandling(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setNotFoundHandler((request, reply) => {
    // FastAPI's missing route is {"detail": "Not Found"}, rewritten by the envelope handler.
    void sendError(request, reply, new ApiError(404, 'not_found', 'Not Found'));
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ApiError) return sendError(request, reply, err);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
      return sendError(
        request,
        reply,
        new ApiError(413, 'payload_too_large', 'Request body too large', { max_bytes: BODY_LIMIT_BYTES }),
      );
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) {
      return sendError(request, reply, new ApiError(415, 'unsupported_media_type', err.message));
    }
    if (err.statusCode === 400) {
      // Malformed or empty JSON: FastAPI reports it as a validation error on `body`.
      return sendError(
        request,
        reply,
        validationError([{ field: 'body', message: err.message, type: 'json_invalid' }]),
      );
    }
    request.log.error({ err }, 'simulator handler failed');
    return sendError(
      request,
      reply,
      new ApiError(500, 'internal_error', 'An unexpected error occurred. Please try again later.'),
    );
  });
}
