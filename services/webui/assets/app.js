// The scan page: a focused input that takes what scanners type (wedge.js), the camera (camera.js), the verdict card
// (card.js). Served by the verifier it verifies anonymously (GET /v1/verify); served by `pedigree console` it
// verifies as the pharmacy and offers its actions (console.js).
import { isGsChord, normalize, GS } from './wedge.js';
import { cardFor, problemCard } from './card.js';
import { connectConsole } from './console.js';

const form = document.getElementById('scan-form');
const input = document.getElementById('code');
const result = document.getElementById('result');
const cameraBox = document.getElementById('camera');
const cameraBtn = document.getElementById('camera-btn');
const cameraStop = document.getElementById('camera-stop');
const cameraStatus = document.getElementById('camera-status');
const video = document.getElementById('video');

/** Set when the page runs in `pedigree console`: scans go through it, signed in as the pharmacy. */
let console_ = null;

function show(card) {
  result.replaceChildren(card);
}

/** Verifies anonymously with the verifier this page came from. */
async function verifyAnonymously(code) {
  let response;
  try {
    response = await fetch(`/v1/verify?code=${encodeURIComponent(code)}`, {
      headers: { accept: 'application/json' },
      cache: 'no-store',
    });
  } catch {
    return problemCard('no-answer', 'The verifier could not be reached.');
  }
  return cardFor(response);
}

async function scan(typed) {
  const code = normalize(typed);
  if (!code) return;
  result.setAttribute('aria-busy', 'true');
  try {
    const card = console_ ? await console_.scan(code) : await verifyAnonymously(code);
    show(card);
  } finally {
    result.removeAttribute('aria-busy');
  }
}

// A scanner sends Ctrl+] for GS when configured so: insert GS where the caret is.
input.addEventListener('keydown', (event) => {
  if (!isGsChord(event)) return;
  event.preventDefault();
  const { selectionStart: s, selectionEnd: e, value } = input;
  input.value = value.slice(0, s) + GS + value.slice(e);
  input.setSelectionRange(s + 1, s + 1);
});

// Enter completes a scan: no click needed. The field is emptied for the next pack and keeps the focus.
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const typed = input.value;
  input.value = '';
  await scan(typed);
  input.focus();
});

let stopCamera = null;

async function startCameraScan() {
  cameraBox.hidden = false;
  cameraBtn.hidden = true;
  cameraStop.hidden = false;
  cameraStatus.textContent = 'Starting the camera…';
  try {
    const { startCamera } = await import('./camera.js');
    stopCamera = await startCamera(video, async (code) => {
      endCameraScan();
      await scan(code.text);
      input.focus();
    });
    cameraStatus.textContent = "Hold the pack's 2D code in front of the camera.";
  } catch (error) {
    endCameraScan();
    show(problemCard('no-answer', `The camera could not be used: ${error?.message ?? error}`));
  }
}

function endCameraScan() {
  if (stopCamera) stopCamera();
  stopCamera = null;
  cameraBox.hidden = true;
  cameraBtn.hidden = false;
  cameraStop.hidden = true;
  cameraStatus.textContent = '';
}

cameraBtn.addEventListener('click', startCameraScan);
cameraStop.addEventListener('click', () => {
  endCameraScan();
  input.focus();
});

console_ = await connectConsole({ show, input });
document.body.dataset.ready = console_ ? 'console' : 'scan';
input.focus();
