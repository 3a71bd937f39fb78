import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/**
 * Kizu's application icon, drawn from code so it can be regenerated and checked: a grey
 * steel plate with a crack across it and the LayerCAM-style heat glow that finds it.
 * electron-builder derives the macOS .icns and the Windows .ico from icon.png (512 px);
 * Linux takes the sized PNGs in icons/. Run: `npm run icons`.
 */

export const ICON_FILE = 'icon.png';
export const ICON_SIZE = 512;
export const LINUX_ICON_DIR = 'icons';
export const LINUX_ICON_SIZES = [512, 256, 128, 64, 48, 32, 16] as const;

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
  <defs>
    <radialGradient id="heat" cx="0.47" cy="0.53" r="0.42">
      <stop offset="0" stop-color="#f9e23c" stop-opacity="0.95"/>
      <stop offset="0.4" stop-color="#f2702a" stop-opacity="0.8"/>
      <stop offset="0.75" stop-color="#b5241b" stop-opacity="0.35"/>
      <stop offset="1" stop-color="#30123b" stop-opacity="0"/>
    </radialGradient>
    <linearGradient id="plate" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#8a9099"/>
      <stop offset="1" stop-color="#555a62"/>
    </linearGradient>
    <clipPath id="inside"><rect x="72" y="72" width="368" height="368" rx="36"/></clipPath>
  </defs>
  <rect x="16" y="16" width="480" height="480" rx="104" fill="#1f2124"/>
  <rect x="72" y="72" width="368" height="368" rx="36" fill="url(#plate)"/>
  <g clip-path="url(#inside)">
    <rect x="72" y="72" width="368" height="368" fill="url(#heat)"/>
  </g>
  <g fill="none" stroke="#141518" stroke-linecap="round" stroke-linejoin="round">
    <path d="M132 158 L182 196 L170 232 L226 262 L214 296 L272 322 L290 366 L336 392" stroke-width="14"/>
    <path d="M226 262 L268 240 L300 252 L338 226" stroke-width="9"/>
    <path d="M214 296 L180 330" stroke-width="7"/>
  </g>
</svg>`;

/** The icon as a PNG of `size` x `size` pixels (RGBA). */
export function drawIcon(size: number): Promise<Buffer> {
  return sharp(Buffer.from(SVG), { density: (72 * size) / ICON_SIZE })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** Writes icon.png and icons/<n>x<n>.png under `dir` (the build resources folder); returns their paths. */
export async function makeIcons(dir: string): Promise<string[]> {
  await mkdir(join(dir, LINUX_ICON_DIR), { recursive: true });
  const written = [join(dir, ICON_FILE)];
  await writeFile(written[0], await drawIcon(ICON_SIZE));
  for (const size of LINUX_ICON_SIZES) {
    const path = join(dir, LINUX_ICON_DIR, `${size}x${size}.png`);
    await writeFile(path, await drawIcon(size));
    written.push(path);
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  for (const path of await makeIcons(dir)) process.stdout.write(`${path}\n`);
}
