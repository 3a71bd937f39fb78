/** A failure the caller can act on, with the HTTP status it maps to and the field or file at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 501,
    message: string,
    readonly where?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
