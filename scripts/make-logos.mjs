// Writes kernel/logo-svg.svg, logo-32x32.png and logo-64x64.png: a TypeScript-blue tile with
// three white bars (parallel lanes). Run: node scripts/make-logos.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const blue = [0x31, 0x78, 0xc6];
// Geometry in a 64-unit box: corner radius 10, bars at x = 16, 28, 40, width 8, from y = 14 to 50.
const bars = [16, 28, 40];
const inBar = (x, y) => y >= 14 && y < 50 && bars.some((b) => x >= b && x < b + 8);
const inTile = (x, y) => {
  const r = 10;
  const cx = x < r ? r : x > 64 - r ? 64 - r : x;
  const cy = y < r ? r : y > 64 - r ? 64 - r : y;
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};

function png(size) {
  const s = 64 / size;
  const rows = [];
  for (let py = 0; py < size; py++) {
    const row = [0];
    for (let px = 0; px < size; px++) {
      // 4x4 supersampling for smooth edges.
      let tile = 0, bar = 0;
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) {
        const x = (px + (sx + 0.5) / 4) * s, y = (py + (sy + 0.5) / 4) * s;
        if (inTile(x, y)) { tile++; if (inBar(x, y)) bar++; }
      }
      const a = tile / 16, w = tile ? bar / tile : 0;
      row.push(...blue.map((c) => Math.round(c + (255 - c) * w)), Math.round(a * 255));
    }
    rows.push(Buffer.from(row));
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) { c ^= b; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1; }
  return ~c;
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
  <rect width="64" height="64" rx="10" fill="#3178c6"/>
${bars.map((b) => `  <rect x="${b}" y="14" width="8" height="36" fill="#fff"/>`).join('\n')}
</svg>
`;
const dir = new URL('../kernel/', import.meta.url);
writeFileSync(new URL('logo-svg.svg', dir), svg);
writeFileSync(new URL('logo-32x32.png', dir), png(32));
writeFileSync(new URL('logo-64x64.png', dir), png(64));
