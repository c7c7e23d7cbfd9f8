// Main relays the NodeApi between the renderer and the core's utility process: each call's sender is checked,
// its arguments validated against the API's schema before the core sees them, and it times out rather than hang.
import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import { CALL_TIMEOUT_MS, type ApiError, type Reply } from '../../core/node/api-reply.js'
import { validateCall, type NodeEvent } from '../../core/node/node-api.js'
import { API_CHANNEL } from './channels.js'
import { isTrustedSender } from './window.js'

export { API_CHANNEL, EVENT_CHANNEL } from './channels.js'

/** The core, wherever it runs: a call returns its reply, events arrive through `onEvent`. */
export interface CoreLink {
  call(method: string, args: unknown[]): Promise<Reply>
  onEvent(listener: (e: NodeEvent) => void): void
}

export function relayApi(ipcMain: Pick<IpcMain, 'handle'>, core: CoreLink, timeoutMs: number = CALL_TIMEOUT_MS) {
  const handler = async (event: Pick<IpcMainInvokeEvent, 'senderFrame'>, method: unknown, args: unknown) => {
    if (!isTrustedSender(event.senderFrame)) return { ok: false, error: { code: 'FORBIDDEN', message: 'not the app window' } }
    let call
    try {
      call = validateCall(method, args)
    } catch (err) {
      const e = err as { code?: string; message: string }
      return { ok: false, error: { code: e.code ?? 'BAD_CALL', message: e.message } }
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<{ ok: false; error: ApiError }>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, error: { code: 'TIMEOUT', message: `${call.method} took longer than ${timeoutMs / 1000} s` } }), timeoutMs)
    })
    try {
      return await Promise.race([core.call(call.method, call.args), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
  ipcMain.handle(API_CHANNEL, handler)
  return handler
}
