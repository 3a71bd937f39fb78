import { ApiError } from '../api-error.ts';
import { OutsideProjectError } from '../data/project-store.ts';

export function statusOf(err: unknown): number {
  if (err instanceof OutsideProjectError) return 403;
  return err instanceof ApiError ? err.status : 500;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
