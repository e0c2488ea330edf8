// What the page says for each verdict: the wording of docs/verdicts.md ("what the pharmacist should do"), made short
// enough to read at a glance. `tone` picks the colour and the icon; the headline always says it in words too, so
// nothing rests on colour alone.
//   ok    green, ✓   supply
//   info  blue,  ℹ   nothing wrong, read the note
//   stop  red,   ✕   do not supply
//   alert red,   ⚠   do not supply: possible falsification, quarantine and report

const FALSIFICATION =
  'Rescan first: scanner set-up, caps lock and typing are common causes. If the verdict stays, do not supply: ' +
  'quarantine the pack and follow the national alert procedure (EU); in the US, treat it as suspect product.';

export const VERDICTS = {
  VERIFIED: {
    tone: 'ok',
    headline: 'Genuine: you may supply',
    advice: 'Supply it if the anti-tampering device is intact (the ledger cannot see that).',
  },
  ALREADY_DISPENSED_BY_YOU: {
    tone: 'info',
    headline: 'Dispensed by you',
    advice:
      'Your pharmacy dispensed this pack. If it never reached the patient, you may undo the dispense within ' +
      '10 days (not for a recalled lot, a withdrawn product or an expired pack).',
  },
  EXPIRED: {
    tone: 'stop',
    headline: 'Expired: do not supply',
    advice: 'The pack is genuine but past its expiry date. Handle it as expired stock under your local procedure.',
  },
  DISPENSED: {
    tone: 'stop',
    headline: 'Already dispensed: do not supply',
    advice:
      'This pack was dispensed elsewhere. A dispensed pack back in stock cannot be sold and may have been ' +
      'diverted: quarantine it and investigate.',
  },
  DECOMMISSIONED: {
    tone: 'stop',
    headline: 'Decommissioned: do not supply',
    advice:
      'The pack was taken off the market. If it is marked stolen or destroyed, quarantine it and report it. ' +
      'Only the party that decommissioned it may undo that, within 10 days.',
  },
  SUSPECT: {
    tone: 'stop',
    headline: 'Suspect: do not supply',
    advice:
      'Its holder quarantined this pack as suspect product. Keep it quarantined until the product owner or an ' +
      'authority clears it.',
  },
  RECALLED: {
    tone: 'stop',
    headline: 'Recalled: do not supply',
    advice: 'Its lot is recalled. Quarantine the pack and follow the recall notice.',
  },
  WITHDRAWN: {
    tone: 'stop',
    headline: 'Withdrawn: do not supply',
    advice: 'The product is withdrawn from the market. Quarantine the pack and follow the withdrawal notice.',
  },
  EXPIRY_MISMATCH: {
    tone: 'alert',
    headline: 'Expiry does not match: do not supply',
    advice: 'The expiry on the pack differs from the one its manufacturer recorded. ' + FALSIFICATION,
  },
  LOT_MISMATCH: {
    tone: 'alert',
    headline: 'Lot does not match: do not supply',
    advice: 'The lot on the pack differs from the one its manufacturer recorded. ' + FALSIFICATION,
  },
  UNKNOWN_SERIAL: {
    tone: 'alert',
    headline: 'Unknown pack: do not supply',
    advice: 'The product is known but this serial number was never issued. ' + FALSIFICATION,
  },
  UNKNOWN_PRODUCT: {
    tone: 'alert',
    headline: 'Unknown product: do not supply',
    advice:
      'No pack of this product was ever registered. Compare the scan with the printed text and check that the ' +
      'product is in scope. If it is: do not supply, quarantine the pack and contact the manufacturer.',
  },
  ILLEGITIMATE: {
    tone: 'alert',
    headline: 'Illegitimate: do not supply',
    advice:
      'The product owner or an authority declared this pack illegitimate (counterfeit, diverted, stolen...). ' +
      'Quarantine it. In the US, notify FDA (Form 3911) and your trading partners within 24 hours; in the EU, ' +
      'inform the national competent authority.',
  },
};

/** No verdict: the code could not be read (HTTP 400). */
export const UNREADABLE = {
  tone: 'stop',
  headline: 'Not verified: the code could not be read',
  advice: 'The pack has not been verified. Rescan, or type the data from the printed text.',
};

/** No verdict: the verifier could not answer (HTTP 5xx, no connection, busy). Never shown as verified. */
export const NO_ANSWER = {
  tone: 'stop',
  headline: 'No verdict: the verifier did not answer',
  advice: 'The pack has NOT been verified. Do not supply it as verified; try again in a moment.',
};

export const ICONS = { ok: '✓', info: 'ℹ', stop: '✕', alert: '⚠' };

/** The reason a decommissioned pack was taken off the market, in words. */
export const REASONS = {
  destroyed: 'destroyed',
  stolen: 'stolen',
  sample: 'sample',
  free_sample: 'free sample',
  exported: 'exported',
  locked: 'locked',
  repackaged: 'repackaged',
};

/** What the page shows for a verdict name (an unknown name is shown as no verdict, never as verified). */
export function wording(verdict) {
  return VERDICTS[verdict] ?? NO_ANSWER;
}

/** A GS1 expiry (YYMMDD, DD = 00 for the end of the month) as a date a person reads: "31 Dec 2028". */
export function expiryText(yymmdd) {
  const m = /^(\d\d)(\d\d)(\d\d)$/.exec(yymmdd ?? '');
  if (!m) return yymmdd ?? '';
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const month = months[Number(m[2]) - 1];
  if (!month) return yymmdd;
  const year = 2000 + Number(m[1]);
  return m[3] === '00' ? `end of ${month} ${year}` : `${Number(m[3])} ${month} ${year}`;
}
