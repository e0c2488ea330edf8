// Render a GS1 DataMatrix into camera-like frames for Chromium's fake video
// capture (`--use-file-for-fake-video-capture=<file>.y4m`).
//
// Uses bwip-js only (no canvas, no native deps): `bwipjs.raw` gives the module
// matrix, we paint it ourselves as black modules on a white frame, centred,
// with a quiet zone, and write either a Y4M (YUV4MPEG2, C420jpeg) or a PNG.
import { writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import bwipjs from 'bwip-js';

/**
 * Module matrix for a bracketed GS1 element string, e.g.
 * `(01)09506000134352(17)281231(10)LOT1(21)SER123`.
 * @returns {{cols:number, rows:number, dark:(x:number,y:number)=>boolean}}
 */
export function gs1DataMatrix(elementString) {
  const [sym] = bwipjs.raw({ bcid: 'gs1datamatrix', text: elementString });
  const { pixs, pixx: cols, pixy: rows } = sym;
  if (pixs.length !== cols * rows) throw new Error('unexpected bwip-js raw layout');
  return { cols, rows, dark: (x, y) => pixs[y * cols + x] === 1 };
}

/**
 * Grayscale frame (one byte per pixel, 0 = black, 255 = white) with the
 * symbol centred. The module size is the largest that fits with a 4-module
 * quiet zone, capped at `maxModule` px.
 */
export function renderGray(elementString, { width = 640, height = 480, maxModule = 10, quiet = 4 } = {}) {
  const { cols, rows, dark } = gs1DataMatrix(elementString);
  const module = Math.min(
    maxModule,
    Math.floor(width / (cols + 2 * quiet)),
    Math.floor(height / (rows + 2 * quiet)),
  );
  if (module < 2) throw new Error(`symbol ${cols}x${rows} too large for ${width}x${height}`);
  const gray = new Uint8Array(width * height).fill(255);
  const x0 = Math.floor((width - cols * module) / 2);
  const y0 = Math.floor((height - rows * module) / 2);
  for (let my = 0; my < rows; my++) {
    for (let mx = 0; mx < cols; mx++) {
      if (!dark(mx, my)) continue;
      for (let py = 0; py < module; py++) {
        const row = (y0 + my * module + py) * width + x0 + mx * module;
        gray.fill(0, row, row + module);
      }
    }
  }
  return { gray, width, height, module, cols, rows };
}

/**
 * Write a YUV4MPEG2 (4:2:0, JPEG chroma siting) file with `frames` identical
 * frames. Chromium loops the file, so a few frames are plenty.
 */
export async function writeY4m(elementString, path, { width = 640, height = 480, frames = 5, fps = 10, maxModule = 10 } = {}) {
  if (width % 2 || height % 2) throw new Error('width and height must be even for 4:2:0');
  const { gray, module, cols, rows } = renderGray(elementString, { width, height, maxModule });
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, 'ascii');
  const frameHeader = Buffer.from('FRAME\n', 'ascii');
  // Full-range luma: our gray values are used as Y as-is (0 / 255) — Chromium
  // converts to RGB with limited-range BT.601, so black/white just saturate.
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([frameHeader, Buffer.from(gray.buffer, gray.byteOffset, gray.length), chroma]);
  const parts = [header];
  for (let i = 0; i < frames; i++) parts.push(frame);
  await writeFile(path, Buffer.concat(parts));
  return { path, width, height, frames, module, cols, rows };
}

// --- minimal PNG (8-bit grayscale) writer, zlib from node -------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

export function encodePngGray(gray, width, height) {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    raw.set(gray.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Same picture as one Y4M frame, as an 8-bit grayscale PNG. */
export async function writePng(elementString, path, { width = 640, height = 480, maxModule = 10 } = {}) {
  const { gray, module, cols, rows } = renderGray(elementString, { width, height, maxModule });
  await writeFile(path, encodePngGray(gray, width, height));
  return { path, width, height, module, cols, rows };
}

// CLI: node datamatrix.mjs '(01)...' out.y4m|out.png
if (import.meta.url === `file://${process.argv[1]}`) {
  const [text, out] = process.argv.slice(2);
  if (!text || !out) {
    console.error('usage: node datamatrix.mjs <GS1 element string> <out.y4m|out.png>');
    process.exit(2);
  }
  const info = out.endsWith('.png') ? await writePng(text, out) : await writeY4m(text, out);
  console.log(JSON.stringify(info));
}
