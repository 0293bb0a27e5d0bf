import type { Readable } from 'node:stream';
import type { AxiosResponse } from 'axios';

/**
 * Answers are requested as streams (`responseType: 'stream'`) and read here, within a
 * bound that depends on what the body is for: the status alone decides most outcomes,
 * so a service that answers with a huge body costs us neither memory nor a wrong
 * outcome. (axios' maxContentLength rejects the whole request, before anyone has
 * looked at the status: a 201 with a big body was recorded as a failure.)
 */
export const STREAMED = { responseType: 'stream', maxContentLength: -1 } as const;

/** Enough of an error answer for its reason; the rest is never read. */
export const ERROR_BODY_BYTES = 64 * 1024;
/** Accepted answers are read this far so the socket can be reused, then dropped. */
const DISCARDED_BYTES = 64 * 1024;

export interface ResponseBody {
  /** Parsed JSON when the text is JSON, the text otherwise. */
  data: unknown;
  /** Whether the body went on beyond the bound (the connection was then closed). */
  truncated: boolean;
}

/**
 * Reads at most `maxBytes` of a streamed answer. Beyond that the stream is destroyed,
 * which closes the connection: cheaper than reading on.
 */
export async function readBody(response: AxiosResponse<Readable>, maxBytes: number): Promise<ResponseBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  // A deadline that ends the request meanwhile fails the stream with its timeout error.
  for await (const chunk of response.data as AsyncIterable<Buffer>) {
    if (size + chunk.length > maxBytes) {
      chunks.push(chunk.subarray(0, maxBytes - size));
      size = maxBytes;
      truncated = true;
      break; // destroys the stream
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { data: parseBody(Buffer.concat(chunks, size).toString('utf8')), truncated };
}

/**
 * Lets an answer whose body nobody needs drain in the background: a short one leaves its
 * keep-alive socket reusable, a long one is cut off. Its errors are nobody's concern.
 */
export function discardBody(response: AxiosResponse<Readable>): void {
  const stream = response.data;
  let size = 0;
  stream.on('error', () => undefined);
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > DISCARDED_BYTES) stream.destroy();
  });
}

/** As axios would: JSON when it parses as JSON, the text otherwise. */
function parseBody(text: string): unknown {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return text;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return text;
  }
}
