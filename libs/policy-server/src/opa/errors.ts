/** OPA's error codes (server/types/codes.go) and the HTTP errors the v1 API answers with. */
export type OpaErrorCode =
  | 'invalid_parameter'
  | 'resource_not_found'
  | 'resource_conflict'
  | 'internal_error'
  | 'unauthorized'
  | 'evaluation_error'
  | 'undefined_document';

export interface OpaErrorLocation {
  readonly file: string;
  readonly row: number;
  readonly col: number;
}

/** One entry of `errors[]`: an engine error (rego_parse_error, eval_conflict_error, …). */
export interface OpaErrorDetail {
  readonly code: string;
  readonly message: string;
  readonly location?: OpaErrorLocation;
}

import { Ordered } from './json';

/** The body of every non-2xx answer on /v1: `{code, message, errors?}`. */
export interface OpaErrorBody {
  readonly code: OpaErrorCode;
  readonly message: string;
  readonly errors?: readonly OpaErrorDetail[];
}

export const MSG_COMPILE_ERROR = 'error(s) occurred while compiling module(s)';
export const MSG_EVAL_ERROR = 'error(s) occurred while evaluating query';

/** An error a /v1 handler throws; the OPA error handler writes it as OPA would. */
export class OpaHttpError extends Error {
  override name = 'OpaHttpError';
  constructor(
    readonly status: number,
    readonly code: OpaErrorCode,
    message: string,
    readonly errors?: readonly OpaErrorDetail[],
  ) {
    super(message);
  }

  get body(): OpaErrorBody {
    return this.errors ? { code: this.code, message: this.message, errors: this.errors } : { code: this.code, message: this.message };
  }

  /** The body with Go's struct field order (code, message, errors; location file, row, col). */
  get wire(): Ordered {
    const errors = this.errors?.map(
      (e) =>
        new Ordered({
          code: e.code,
          message: e.message,
          location: e.location ? new Ordered({ file: e.location.file, row: e.location.row, col: e.location.col }) : undefined,
        }),
    );
    return new Ordered({ code: this.code, message: this.message, errors });
  }

  static badRequest(message: string, errors?: readonly OpaErrorDetail[]): OpaHttpError {
    return new OpaHttpError(400, 'invalid_parameter', message, errors);
  }

  static notFound(message: string): OpaHttpError {
    return new OpaHttpError(404, 'resource_not_found', message);
  }

  static internal(message: string, errors?: readonly OpaErrorDetail[]): OpaHttpError {
    return new OpaHttpError(500, 'internal_error', message, errors);
  }
}

interface EngineErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** The `errors[]` of an engine error (RegoError), with a location when the engine knows one. */
export function engineErrorDetails(err: unknown, fallbackFile?: string): OpaErrorDetail[] {
  const e = err as EngineErrorLike;
  const list = Array.isArray(e?.errors) && e.errors.length ? (e.errors as EngineErrorLike[]) : [e];
  return list.map((d) => {
    const loc = (d as { location?: { file?: string; row?: number; col?: number } }).location;
    const detail: { code: string; message: string; location?: OpaErrorLocation } = {
      code: typeof d?.code === 'string' ? d.code : 'internal_error',
      message: typeof d?.message === 'string' ? d.message : String(err),
    };
    if (loc && typeof loc.row === 'number') {
      detail.location = { file: loc.file ?? fallbackFile ?? '', row: loc.row, col: loc.col ?? 0 };
    }
    return detail;
  });
}

/** True for errors thrown by the Rego engine (they carry a string `code`). */
export function isEngineError(err: unknown): boolean {
  return err instanceof Error && typeof (err as EngineErrorLike).code === 'string';
}
