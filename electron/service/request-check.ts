import { parseRequest, requestSchemas, type ApiMethod, type ParsedRequest } from '../api.ts';
import { ApiError } from '../api-error.ts';

/** parseRequest, with a failure turned into a 400 that names the first offending field. */
export function checkRequest<M extends ApiMethod>(method: M, raw: unknown): ParsedRequest<M> {
  try {
    return parseRequest(method, raw);
  } catch (err) {
    const result = requestSchemas[method].safeParse(raw ?? {});
    const where = result.success ? undefined : result.error.issues[0]?.path.join('.') || '(request)';
    throw new ApiError(400, (err as Error).message, where);
  }
}
