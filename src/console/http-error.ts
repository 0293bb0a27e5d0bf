/** An error the console answers with its status and a message a person can act on (`{ error }` for the API, a page for people). */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}
