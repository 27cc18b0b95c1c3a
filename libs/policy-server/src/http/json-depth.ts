import { jsonDepthExceeded, MAX_JSON_DEPTH } from '@cloud-stack/service-kit';
import { OpaHttpError } from '../opa/errors';

/**
 * OPA refuses JSON nested past Go's decoder limit with a 400 `invalid_parameter` ("invalid
 * character '[' exceeded max depth"); the sidecar does the same at the platform's limit, before
 * anything recursive (JSON.parse's consumers, the engine, decision logs) sees the document.
 * `what` is OPA's prefix: "body contains malformed input document".
 */
export function refuseDeepJson(text: string, what: string): void {
  const at = jsonDepthExceeded(text, MAX_JSON_DEPTH);
  if (at >= 0) throw tooDeep(what, text[at]!);
}

function tooDeep(what: string, char: string): OpaHttpError {
  return OpaHttpError.badRequest(`${what}: invalid character '${char}' exceeded max depth (${MAX_JSON_DEPTH})`);
}
