// One call from outside (IPC or WebSocket) into the NodeApi: validated against the method's schema, run, and its
// outcome turned into plain JSON. Nothing thrown inside escapes as anything but { code, message }.
import { toApiError } from './app-core.js'
import type { Reply } from './api-reply.js'
import { validateCall, type NodeApi } from './node-api.js'

export async function dispatch(api: NodeApi, method: unknown, args: unknown): Promise<Reply> {
  try {
    const call = validateCall(method, args)
    const fn = api[call.method] as (...a: unknown[]) => Promise<unknown>
    const result = await fn.apply(api, call.args)
    return { ok: true, result: result ?? null }
  } catch (err) {
    return { ok: false, error: toApiError(err) }
  }
}
