import type { AppCommand, JobEvent, KizuApi } from './api.ts';
import { API_METHOD_NAMES, APP_COMMAND_CHANNEL, channelOf, JOB_EVENT_CHANNEL, type IpcResult } from './ipc-channels.ts';

/** What the preload gives the client: ipcRenderer's invoke and on, narrowed. */
export interface IpcTransport {
  invoke(channel: string, request: unknown): Promise<unknown>;
  on(channel: string, listener: (payload: unknown) => void): () => void;
}

export class KizuApiError extends Error {
  constructor(message: string, readonly where?: string) {
    super(message);
    this.name = 'KizuApiError';
  }
}

/** KizuApi over Electron IPC: one invoke per call, job events and menu commands as messages. */
export function createIpcClient(transport: IpcTransport): KizuApi {
  const client: Record<string, unknown> = {};
  for (const method of API_METHOD_NAMES) {
    client[method] = async (request: unknown) => {
      const result = (await transport.invoke(channelOf(method), request ?? {})) as IpcResult<unknown>;
      if (!result.ok) throw new KizuApiError(result.error.error, result.error.where);
      return result.value;
    };
  }
  client.onJobEvent = (listener: (event: JobEvent) => void) => transport.on(JOB_EVENT_CHANNEL, (e) => listener(e as JobEvent));
  client.onAppCommand = (listener: (command: AppCommand) => void) => transport.on(APP_COMMAND_CHANNEL, (c) => listener(c as AppCommand));
  return client as KizuApi;
}
