import type { z } from 'zod';

export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * An error with a stable code (`ORDER.NOT_FOUND`) that survives process boundaries,
 * the HTTP status it maps to and a detail safe to show to the client.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly detail: string,
    readonly options: {
      cause?: unknown;
      errors?: FieldProblem[];
      /** Sent as `Retry-After`: the request may well succeed if repeated after it. */
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
  }

  static validation(errors: FieldProblem[], detail = 'The request is invalid.'): AppError {
    return new AppError('REQUEST.INVALID', 400, detail, { errors });
  }

  static notFound(code: string, detail: string): AppError {
    return new AppError(code, 404, detail);
  }
}

export function fieldProblems(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
  }));
}

/** Parses input at the edge; a failure is a 400 naming every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where = ''): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw AppError.validation(fieldProblems(result.error, where));
  }
  return result.data;
}
