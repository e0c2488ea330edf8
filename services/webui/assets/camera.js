// Camera scanning for GS1 DataMatrix (and friends) in the pharmacist's page.
//
// Uses the browser's BarcodeDetector when it exists and supports data_matrix
// (Chrome on Android/macOS/ChromeOS), else the vendored zxing-wasm reader
// served from our own origin (Chromium/Firefox on Linux, Safari < 17...).
// Plain ES module, no inline script, works under
//   script-src 'self' 'wasm-unsafe-eval'; media-src 'self' blob:; connect-src 'self'
//
//   import { startCamera } from '/assets/camera.js';
//   const stop = await startCamera(videoEl, (code) => { ...; stop(); });
//
// `code` is { text, raw, format, gs1, source }:
//   text  human-readable; for GS1 from zxing: "(01)09506000134352(17)281231(10)LOT1(21)SER123"
//   raw   element string without brackets, variable-length fields ended by GS
//         (U+001D), no leading FNC1 / symbology identifier:
//         "01095060001343521728123110LOT1\u001d21SER123"
//   gs1   true when the symbol carried FNC1 in first position (zxing only; BarcodeDetector
//         cannot tell, so it is null there)
//   source 'BarcodeDetector' | 'zxing-wasm'

export const ZXING_BASE = '/assets/vendor/zxing/';

let zxingPromise = null;

/** Load (once) the vendored zxing-wasm reader, wasm fetched from ZXING_BASE. */
export function loadZxing(base = ZXING_BASE) {
  if (!zxingPromise) {
    zxingPromise = (async () => {
      const zxing = await import(`${base}reader/index.js`);
      await zxing.prepareZXingModule({
        overrides: {
          locateFile: (path, prefix) => (path.endsWith('.wasm') ? `${base}zxing_reader.wasm` : prefix + path),
        },
        fireImmediately: true,
      });
      return zxing;
    })();
    zxingPromise.catch(() => { zxingPromise = null; });
  }
  return zxingPromise;
}

async function nativeDetector(formats) {
  if (!('BarcodeDetector' in globalThis)) return null;
  try {
    const supported = await globalThis.BarcodeDetector.getSupportedFormats();
    if (!formats.every((f) => supported.includes(f))) return null;
    return new globalThis.BarcodeDetector({ formats });
  } catch {
    return null;
  }
}

const NATIVE_TO_ZXING = { data_matrix: 'DataMatrix', qr_code: 'QRCode', code_128: 'Code128' };

/** Build a decode(source) -> code|null function, native first. */
export async function createDecoder({ formats = ['data_matrix'], engine = 'auto', zxingBase = ZXING_BASE } = {}) {
  if (engine !== 'wasm') {
    const det = await nativeDetector(formats);
    if (det) {
      const decode = async (canvas) => {
        const [hit] = await det.detect(canvas);
        if (!hit) return null;
        return { text: hit.rawValue, raw: hit.rawValue, format: hit.format, gs1: null, source: 'BarcodeDetector' };
      };
      decode.engine = 'BarcodeDetector';
      return decode;
    }
    if (engine === 'native') throw new Error('BarcodeDetector with ' + formats.join(',') + ' unavailable');
  }
  const zxing = await loadZxing(zxingBase);
  const options = {
    formats: formats.map((f) => NATIVE_TO_ZXING[f] ?? f),
    tryHarder: true,
    maxNumberOfSymbols: 1,
    textMode: 'HRI',
  };
  const latin1 = new TextDecoder('latin1');
  const decode = async (canvas) => {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const [hit] = await zxing.readBarcodes(img, options);
    if (!hit || !hit.isValid) return null;
    return {
      text: hit.text,
      raw: latin1.decode(hit.bytes),
      format: hit.format,
      gs1: hit.contentType === 'GS1',
      symbologyIdentifier: hit.symbologyIdentifier,
      source: 'zxing-wasm',
    };
  };
  decode.engine = 'zxing-wasm';
  return decode;
}

/**
 * Open the (rear) camera into `videoEl` and call `onCode(code)` for every
 * decoded symbol until the returned stop() is called.
 * Options: formats (BarcodeDetector names, default ['data_matrix']),
 * engine ('auto' | 'wasm' | 'native'), intervalMs (default 150),
 * video (MediaTrackConstraints), onError(err) for per-frame failures.
 */
export async function startCamera(videoEl, onCode, opts = {}) {
  const { intervalMs = 150, onError = (e) => console.warn('camera decode', e) } = opts;
  const decode = await createDecoder(opts);
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: opts.video ?? { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
  });
  videoEl.muted = true;
  videoEl.playsInline = true;
  videoEl.srcObject = stream;
  await videoEl.play();

  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  let stopped = false;
  let timer = 0;

  const tick = async () => {
    if (stopped) return;
    try {
      const w = videoEl.videoWidth;
      const h = videoEl.videoHeight;
      if (w && h) {
        if (canvas.width !== w || canvas.height !== h) {
          canvas.width = w;
          canvas.height = h;
        }
        ctx.drawImage(videoEl, 0, 0, w, h);
        const code = await decode(canvas);
        if (code && !stopped) onCode(code);
      }
    } catch (e) {
      onError(e);
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, 0);

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    for (const t of stream.getTracks()) t.stop();
    videoEl.srcObject = null;
  };
  stop.engine = decode.engine;
  return stop;
}
