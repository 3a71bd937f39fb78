import { parseRequest, type ApiMethod, type ApiRequest, type ApiResponses, type JobEvent } from '../../../electron/api.ts';
import type { KizuService } from '../../../electron/service/kizu-service.ts';

/** Calls a handler the way both transports do: through the request schema first. */
export function callThrough<M extends ApiMethod>(service: KizuService, method: M, request: ApiRequest<M>): Promise<ApiResponses[M]> {
  const handler = service.handlers[method] as (r: unknown) => Promise<ApiResponses[M]>;
  return handler(parseRequest(method, request));
}

/** The job's last event, once it has ended (at once if it already has). */
export function jobEnd(service: KizuService, jobId: string): Promise<JobEvent> {
  return new Promise((resolve) => {
    const done = service.jobs.list().find((e) => e.jobId === jobId && e.state !== 'running');
    if (done) return resolve(done);
    const off = service.jobs.subscribe((e) => {
      if (e.jobId === jobId && e.state !== 'running') {
        off();
        resolve(e);
      }
    });
  });
}
