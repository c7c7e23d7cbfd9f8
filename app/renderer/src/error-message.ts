// Any thrown value as one sentence. A copy of core/util/error-message.ts: the renderer imports only types from core/
// (its bundle carries no core code), so it keeps this one line itself.
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
