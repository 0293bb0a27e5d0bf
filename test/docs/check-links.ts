import { PassThrough } from 'node:stream';
import { remark } from 'remark';
import remarkGfm from 'remark-gfm';
import remarkValidateLinks from 'remark-validate-links';
import { engine, type Options } from 'unified-engine';
import type { VFile } from 'vfile';

/**
 * Checks the relative links and heading anchors of markdown files with
 * remark-validate-links, run through unified-engine as its CLI (remark-cli) runs it:
 * only then are links to headings in other files checked (used on a processor alone, it
 * checks that a linked file exists but not its headings). Offline: `repository: false`, so no URL is
 * taken for a link into this repository and no http(s) link is fetched.
 *
 * `files` are paths (or folders, searched for .md) relative to `root`, or virtual files
 * with a path under `root`. Returns one line per broken link: `file:line:column: reason`.
 */
export async function brokenLinks(root: string, files: Array<string | VFile>): Promise<string[]> {
  const processed = await new Promise<VFile[]>((resolve, reject) => {
    engine({
      // The plugins go to the engine, not to the processor: the engine hands them the
      // file set, which is what makes remark-validate-links check across files.
      processor: remark,
      // (The cast: unified types a plugin list as plugins taking unknown options.)
      plugins: [remarkGfm, [remarkValidateLinks, { repository: false, root }]] as Options['plugins'],
      files,
      cwd: root,
      extensions: ['md'],
      detectConfig: false,
      detectIgnore: false,
      output: false,
      out: false,
      streamError: new PassThrough(),
      color: false,
    }, (error, _code, context) => (error ? reject(error) : resolve(context?.files ?? [])));
  });
  return processed.flatMap((file) => file.messages.map((message) =>
    `${file.path}:${message.line ?? '?'}:${message.column ?? '?'}: ${message.reason}`));
}
