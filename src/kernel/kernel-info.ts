/** The kernel_info_reply content: who this kernel is and what language it speaks. */
import { checkerTypescriptVersion, tslabVersion } from '../engine/checker.js';
import { kProtocolVersion } from '../protocol/messages.js';
import { packageVersion } from '../util/package.js';

export function kernelInfo(): Record<string, unknown> {
  const tsVersion = checkerTypescriptVersion();
  return {
    status: 'ok',
    protocol_version: kProtocolVersion,
    implementation: 'tslab-parallel',
    implementation_version: packageVersion(),
    language_info: {
      name: 'typescript',
      version: tsVersion,
      mimetype: 'text/typescript',
      file_extension: '.ts',
      codemirror_mode: { name: 'javascript', typescript: true },
      pygments_lexer: 'typescript',
    },
    banner: `tslab-parallel ${packageVersion()}: TypeScript ${tsVersion} (tslab ${tslabVersion()}) on Node.js ${process.version}, with %pool, %%parallel and %%mpirun`,
    help_links: [
      { text: 'tslab-parallel magics (%lsmagic, %name?)', url: 'https://github.com/tslab-parallel/tslab-parallel#magics' },
      { text: 'TypeScript handbook', url: 'https://www.typescriptlang.org/docs/handbook/intro.html' },
      { text: 'Node.js API', url: `https://nodejs.org/docs/${process.version}/api/` },
      { text: 'tslab', url: 'https://github.com/yunabe/tslab' },
    ],
    debugger: false,
  };
}
