// Errors cross the API boundary as a code the UI can act on and a sentence for the person. No dependency: the
// renderer's bundle uses the same class.
export interface ApiError {
  code: string
  message: string
}

export class ApiCallError extends Error {
  override readonly name = 'ApiCallError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}
