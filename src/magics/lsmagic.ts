/** %lsmagic: list every magic with its one-line description. */
import type { MagicRegistry } from './registry.js';
import type { MagicSpec } from './types.js';

export function lsmagic(registry: MagicRegistry): MagicSpec {
  return {
    name: 'lsmagic',
    kind: 'line',
    description: 'List the available magics. %name? (or %%name?) shows the usage and options of one.',
    args: [],
    handler: (ctx) => {
      ctx.stdout(registry.summary() + '\n');
      return undefined;
    },
  };
}
