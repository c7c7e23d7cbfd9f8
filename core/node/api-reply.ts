// What crosses the API boundary (IPC or WebSocket) around the NodeApi's own values: a call's reply, its error (a
// code the UI can act on and a sentence for the person) and how long a caller waits for it. No dependency: the core
// and Electron's main import it; the renderer imports its types only (see CallTimeoutMs).
export interface ApiError {
  code: string
  message: string
}

/** A call's outcome as plain JSON. */
export type Reply = { ok: true; result: unknown } | { ok: false; error: ApiError }

/**
 * How long a caller (main's IPC relay, the renderer's WebSocket bridge) waits for a reply before it gives up with
 * TIMEOUT. The renderer cannot import the value, so it declares `const CALL_TIMEOUT_MS: CallTimeoutMs = 120_000`:
 * this type keeps the two equal.
 */
export type CallTimeoutMs = 120_000
export const CALL_TIMEOUT_MS: CallTimeoutMs = 120_000

export class ApiCallError extends Error {
  override readonly name = 'ApiCallError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}
