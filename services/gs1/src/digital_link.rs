//! GS1 Digital Link URIs (uncompressed): `https://id.gs1.org/01/09506000134352/10/AB12/21/XYZ?17=271231`.
//!
//! Parsing accepts any scheme and host, an optional path prefix before `/01/` (so a brand's own
//! resolver works), or a bare path. After `/01/{gtin}` the path may carry the key qualifiers
//! `22` (skipped), `10` and `21`, in that order, as the standard requires. In the query string
//! `17` is the expiry; `10` and `21` are also accepted there when absent from the path (the
//! standard wants them in the path, but such URIs exist); every other parameter is ignored.
//! Values are percent-decoded, and a GTIN-8/12/13 is zero-padded to 14 digits. Compressed
//! Digital Link URIs and the deprecated convenience alphas (`/gtin/`) are not supported.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::ai::{self, Collector};
use crate::{Gs1Error, Gtin, ScannedCode, quote};

const FORM: &str = "digital link";

/// Everything but RFC 3986 unreserved characters is percent-encoded, which covers every
/// character of set 82 that the Digital Link standard requires to be encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Key qualifiers of AI 01 in the order they must appear in the path.
const QUALIFIERS: [&str; 3] = ["22", "10", "21"];

/// Renders `code` on `base`; see [`ScannedCode::to_digital_link`].
pub(crate) fn format(code: &ScannedCode, base: &str) -> String {
    let mut out = format!("{}/01/{}", base.trim_end_matches('/'), code.gtin.as_str());
    if let Some(lot) = &code.lot {
        out.push_str("/10/");
        out.extend(utf8_percent_encode(lot.as_str(), ENCODE));
    }
    if let Some(serial) = &code.serial {
        out.push_str("/21/");
        out.extend(utf8_percent_encode(serial.as_str(), ENCODE));
    }
    if let Some(expiry) = &code.expiry {
        out.push_str("?17=");
        out.push_str(&expiry.as_str());
    }
    out
}

/// Parses a GS1 Digital Link URI or bare path.
pub fn parse_digital_link(input: &str) -> Result<ScannedCode, Gs1Error> {
    Gs1Error::check_length(FORM, input)?;
    let input = input.trim_matches([' ', '\t', '\r', '\n']);
    if input.is_empty() {
        return Err(Gs1Error::Empty { form: FORM });
    }
    let without_fragment = input.split('#').next().unwrap_or_default();
    let (path, query) = match without_fragment.split_once('?') {
        Some((path, query)) => (path, query),
        None => (without_fragment, ""),
    };
    let path_start = match path.find("://") {
        Some(i) => path[i + 3..].find('/').map_or(path.len(), |p| i + 3 + p),
        None => 0,
    };
    let mut collector = Collector::new(FORM);
    parse_path(&path[path_start..], path_start, &mut collector)?;
    parse_query(query, path.len() + 1, &mut collector)?;
    collector.finish()
}

/// `/`-separated segments of `path` with their byte positions in the whole input.
fn segments(path: &str, offset: usize) -> Vec<(usize, &str)> {
    let mut pos = offset;
    path.split('/')
        .map(|seg| {
            let item = (pos, seg);
            pos += seg.len() + 1;
            item
        })
        .collect()
}

fn parse_path(path: &str, offset: usize, collector: &mut Collector) -> Result<(), Gs1Error> {
    let segs = segments(path, offset);
    let start = segs
        .iter()
        .position(|(_, s)| *s == "01")
        .filter(|i| segs.get(i + 1).is_some_and(|(_, s)| !s.is_empty()))
        .ok_or(Gs1Error::MissingGtinPath)?;
    let (gtin_pos, raw_gtin) = segs[start + 1];
    let gtin = Gtin::from_short(&decode(raw_gtin, gtin_pos)?)?;
    add(collector, "01", gtin.as_str(), segs[start].0)?;
    let mut rest = &segs[start + 2..];
    if rest.last().is_some_and(|(_, s)| s.is_empty()) {
        rest = &rest[..rest.len() - 1]; // tolerate one trailing slash
    }
    let mut next_rank = 0;
    for pair in rest.chunks(2) {
        let (pos, code) = pair[0];
        let rank = QUALIFIERS.iter().position(|q| *q == code);
        let Some(rank) = rank.filter(|r| *r >= next_rank) else {
            return Err(Gs1Error::malformed(
                FORM,
                format!(
                    "path segment '{}' at position {pos} is not a key qualifier allowed here (22, 10, 21 in that order)",
                    quote(code)
                ),
            ));
        };
        next_rank = rank + 1;
        let (value_pos, raw) = pair.get(1).copied().unwrap_or((pos + code.len() + 1, ""));
        add(collector, code, &decode(raw, value_pos)?, pos)?;
    }
    Ok(())
}

fn parse_query(query: &str, offset: usize, collector: &mut Collector) -> Result<(), Gs1Error> {
    let mut pos = offset;
    for param in query.split('&') {
        if let Some((key, raw)) = param.split_once('=')
            && matches!(key, "17" | "10" | "21")
        {
            add(collector, key, &decode(raw, pos + key.len() + 1)?, pos)?;
        }
        pos += param.len() + 1;
    }
    Ok(())
}

/// Records `value` for the AI `code`, which must be in the AI table.
fn add(collector: &mut Collector, code: &str, value: &str, pos: usize) -> Result<(), Gs1Error> {
    let spec = ai::lookup(code).ok_or_else(|| Gs1Error::UnsupportedAi {
        form: FORM,
        ai: code.to_owned(),
        position: pos,
    })?;
    collector.add(spec, value, pos)
}

/// Strict percent-decoding: every `%` must start a `%XX` escape and the result must be UTF-8.
fn decode(raw: &str, pos: usize) -> Result<String, Gs1Error> {
    let b = raw.as_bytes();
    for (i, _) in raw.match_indices('%') {
        let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
        if !(hex(i + 1) && hex(i + 2)) {
            return Err(Gs1Error::malformed(
                FORM,
                format!("bad percent-encoding at position {}", pos + i),
            ));
        }
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            Gs1Error::malformed(
                FORM,
                format!("value at position {pos} is not utf-8 once percent-decoded"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bracketed;

    fn err(input: &str) -> String {
        parse_digital_link(input).unwrap_err().to_string()
    }

    #[test]
    fn accepts_the_documented_forms() {
        let want = parse_bracketed("(01)09506000134352(17)201225(10)ABC123(21)XYZ").unwrap();
        for input in [
            "https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ?17=201225",
            "https://id.gs1.org/01/09506000134352/21/XYZ?10=ABC123&17=201225",
            "HTTP://example.com/some/prefix/01/9506000134352/10/ABC123/21/XYZ/?linkType=all&17=201225#x",
            "/01/09506000134352/10/ABC123/21/XYZ?17=201225",
            "example.com/01/09506000134352/10/ABC%31%323/21/%58YZ?17=201225\r\n",
        ] {
            assert_eq!(parse_digital_link(input).as_ref(), Ok(&want), "{input}");
        }
        let bare = parse_digital_link("https://id.gs1.org/01/96385074").unwrap();
        assert_eq!(bare.gtin.as_str(), "00000096385074");
        assert_eq!((bare.serial, bare.lot, bare.expiry), (None, None, None));
        let lot_only = parse_digital_link("/01/09506000134352/22/V%2F1/10/L%2F1?3103=000500").unwrap();
        assert_eq!(lot_only.lot.unwrap().as_str(), "L/1");
    }

    #[test]
    fn formats_with_percent_encoding() {
        let code = parse_bracketed("(01)09506000134352(17)201225(10)A/B C(21)x&y=1?%").map_err(|e| e.to_string());
        assert_eq!(code.unwrap_err(), "lot: character ' ' is not in gs1 character set 82");
        let code = parse_bracketed("(01)09506000134352(17)201225(10)A/B-_.(21)x&y=1?%\"!").unwrap();
        let uri = code.to_digital_link("https://id.gs1.org/");
        assert_eq!(
            uri,
            "https://id.gs1.org/01/09506000134352/10/A%2FB-_./21/x%26y%3D1%3F%25%22%21?17=201225"
        );
        assert_eq!(parse_digital_link(&uri), Ok(code));
    }

    #[test]
    fn errors() {
        assert_eq!(err(""), "digital link: input is empty");
        assert_eq!(err("https://id.gs1.org/"), "digital link: path must contain /01/{gtin}");
        assert_eq!(
            err("https://id.gs1.org/01/"),
            "digital link: path must contain /01/{gtin}"
        );
        assert_eq!(
            err("https://id.gs1.org/gtin/09506000134352"),
            "digital link: path must contain /01/{gtin}"
        );
        assert_eq!(err("/01/0950600013"), "gtin: must be 8, 12, 13 or 14 digits, got 10");
        assert_eq!(err("/01/09506000134353"), "gtin: check digit is 3, expected 2");
        assert_eq!(
            err("/01/09506000134352/21/S/10/L"),
            "digital link: path segment '10' at position 24 is not a key qualifier allowed here (22, 10, 21 in that order)"
        );
        assert_eq!(
            err("/01/09506000134352/99/x"),
            "digital link: path segment '99' at position 19 is not a key qualifier allowed here (22, 10, 21 in that order)"
        );
        assert_eq!(
            err("/01/09506000134352/21"),
            "serial: must be 1 to 20 characters, got 0"
        );
        assert_eq!(
            err("/01/09506000134352/21/a%2"),
            "digital link: bad percent-encoding at position 23"
        );
        assert_eq!(
            err("/01/09506000134352/21/%FF"),
            "digital link: value at position 22 is not utf-8 once percent-decoded"
        );
        assert_eq!(
            err("/01/09506000134352/21/%23"),
            "serial: character '#' is not in gs1 character set 82"
        );
        assert_eq!(
            err("/01/09506000134352/10/L?10=M"),
            "digital link: application identifier '10' repeated at position 24"
        );
        assert_eq!(
            err("/01/09506000134352?17=201225&17=201226"),
            "digital link: application identifier '17' repeated at position 29"
        );
        assert_eq!(
            err("/01/09506000134352?17=2012"),
            "expiry: must be 6 digits yymmdd, got 4 characters"
        );
    }
}
