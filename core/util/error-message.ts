// Any thrown value as one sentence, for a person or a log line. No dependency, so every layer can use it (the
// renderer may import only types from core/ and keeps its own copy in app/renderer/src/error-message.ts).
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
