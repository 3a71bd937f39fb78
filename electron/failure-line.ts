/** "<file>: <what is wrong>" for a batch's report, without naming the file twice when the error already does. */
export function failureLine(path: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.startsWith(path) ? message : `${path}: ${message}`;
}
