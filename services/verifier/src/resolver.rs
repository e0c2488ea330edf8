//! A GS1 Digital Link resolver for the links product owners register (docs/verdicts.md, "Digital Link resolver"):
//! `GET /01/{gtin}...?linkType=gs1:pip` redirects (307) to the owner's link of that type, in the language asked for
//! (`Accept-Language`) when it registered several; `linkType=all`, or `Accept: application/linkset+json`, answers the
//! product's linkset (RFC 9264); `/.well-known/gs1resolver` describes the resolver. Without a link type the Digital
//! Link route verifies the pack, as before: this verifier's default link is its verification answer.
//!
//! What is asked is decided here, purely; the links are read from the product's master data.

use axum::http::{HeaderMap, Uri, header};
use pedigree_core::pb::ProductLink;
use serde_json::{Map, Value, json};

/// The GS1 Web Vocabulary's namespace, which link types are names in.
pub const VOCABULARY: &str = "https://gs1.org/voc/";
/// The media type of a linkset (RFC 9264).
pub const LINKSET: &str = "application/linkset+json";

/// What a Digital Link request asks the resolver, when it asks it anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Every link of the product.
    Linkset,
    /// A redirect to the product's link of this type (`gs1:` and its name).
    Link(String),
}

/// The resolver request `uri` and `headers` make, if any: `linkType` other than the verification service's and a
/// connectivity check (those are the VRS responder's), or a linkset asked for by `Accept`.
pub fn asked(uri: &Uri, headers: &HeaderMap) -> Option<Asked> {
    let link_type = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "linkType")
        .map(|(_, v)| v.replace("%3A", ":").replace("%3a", ":"));
    match link_type.as_deref() {
        Some("all" | "linkset") => Some(Asked::Linkset),
        Some("verificationService" | "gs1:verificationService" | "checkConnectivity" | "gs1:checkConnectivity") => None,
        Some(t) => Some(Asked::Link(match t.strip_prefix(VOCABULARY) {
            Some(name) => format!("gs1:{name}"),
            None if t.starts_with("gs1:") => t.to_string(),
            None => format!("gs1:{t}"),
        })),
        None => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            accept.contains(LINKSET).then_some(Asked::Linkset)
        }
    }
}

/// The link of `link_type` to redirect to: the first whose language `accept_language` lists (in its order, by
/// primary tag as well), else the first of that type.
pub fn choose<'a>(links: &'a [ProductLink], link_type: &str, accept_language: &str) -> Option<&'a ProductLink> {
    let of_type: Vec<&ProductLink> = links.iter().filter(|l| l.link_type == link_type).collect();
    let wanted = accept_language
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(str::trim)
        .filter(|tag| !tag.is_empty() && *tag != "*");
    for tag in wanted {
        let primary = tag.split('-').next().unwrap_or(tag);
        let found = of_type.iter().find(|l| l.lang.eq_ignore_ascii_case(tag)).or_else(|| {
            of_type.iter().find(|l| {
                l.lang
                    .split('-')
                    .next()
                    .is_some_and(|p| p.eq_ignore_ascii_case(primary))
            })
        });
        if let Some(link) = found {
            return Some(link);
        }
    }
    of_type.first().copied()
}

/// The product's linkset (RFC 9264 JSON): one context object anchored at its Digital Link URI, the links grouped by
/// link type (as full vocabulary URIs).
pub fn linkset(anchor: &str, links: &[ProductLink]) -> Value {
    let mut context = Map::new();
    context.insert("anchor".into(), anchor.into());
    for link in links {
        let relation = format!("{VOCABULARY}{}", link.link_type.trim_start_matches("gs1:"));
        let mut target = Map::new();
        target.insert("href".into(), link.href.clone().into());
        if !link.title.is_empty() {
            target.insert("title".into(), link.title.clone().into());
        }
        if !link.lang.is_empty() {
            target.insert("hreflang".into(), json!([link.lang]));
        }
        if let Value::Array(targets) = context.entry(relation).or_insert_with(|| json!([])) {
            targets.push(Value::Object(target));
        }
    }
    json!({ "linkset": [Value::Object(context)] })
}

/// What `/.well-known/gs1resolver` answers: the resolver's name and root, the keys and link types it resolves.
pub fn description(root: &str) -> Value {
    json!({
        "name": "Pedigree verifier",
        "resolverRoot": root,
        "supportedPrimaryKeys": ["01"],
        "linkTypeDefaultCanBeLinkset": false,
        "supportedLinkType": [{ "namespace": VOCABULARY, "prefix": "gs1:" }],
        "linkset": LINKSET,
    })
}

impl crate::verify::Verifier {
    /// Answers a resolver request for the product `uri` names: a 307 to its link, or its linkset.
    pub(crate) async fn resolve(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
        asked: Asked,
    ) -> Result<axum::response::Response, crate::error::VerifyError> {
        use axum::response::IntoResponse;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let code = pedigree_core::gs1::parse_digital_link(path)?;
        let gtin = code.gtin.as_str();
        let products = self.store.products(&[gtin.to_string()]).await?;
        let Some(master) = products.into_iter().next().flatten().and_then(|p| p.master) else {
            return Err(crate::error::VerifyError::NoLink(
                "no product with this GTIN is registered".into(),
            ));
        };
        match asked {
            Asked::Linkset => {
                let anchor = format!("{}/01/{gtin}", crate::http::root(headers));
                let body = linkset(&anchor, &master.links).to_string();
                Ok(([(header::CONTENT_TYPE, LINKSET)], body).into_response())
            }
            Asked::Link(link_type) => {
                let accept_language = headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let link = choose(&master.links, &link_type, accept_language).ok_or_else(|| {
                    crate::error::VerifyError::NoLink(format!(
                        "the product's owner registered no {} link",
                        pedigree_core::gs1::quote(&link_type)
                    ))
                })?;
                Ok((
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, link.href.clone())],
                )
                    .into_response())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(link_type: &str, lang: &str, href: &str) -> ProductLink {
        ProductLink {
            link_type: link_type.into(),
            href: href.into(),
            title: String::new(),
            lang: lang.into(),
        }
    }

    fn asked_by(query: &str, accept: &str) -> Option<Asked> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, accept.parse().unwrap());
        asked(&format!("/01/09506000134352?{query}").parse().unwrap(), &headers)
    }

    #[test]
    fn a_link_type_or_a_linkset_is_asked_and_the_vrs_ones_are_left_alone() {
        assert_eq!(asked_by("", "application/json"), None);
        assert_eq!(asked_by("17=291231", "*/*"), None);
        assert_eq!(asked_by("", "application/linkset+json"), Some(Asked::Linkset));
        assert_eq!(asked_by("linkType=all", ""), Some(Asked::Linkset));
        for query in [
            "linkType=gs1:pip",
            "linkType=gs1%3Apip",
            "linkType=pip",
            "linkType=https://gs1.org/voc/pip",
        ] {
            assert_eq!(asked_by(query, ""), Some(Asked::Link("gs1:pip".into())), "{query}");
        }
        for vrs in ["linkType=verificationService", "linkType=gs1:checkConnectivity"] {
            assert_eq!(asked_by(vrs, ""), None, "{vrs}");
        }
    }

    #[test]
    fn the_language_asked_for_wins_then_the_first_link() {
        let links = [
            link("gs1:epil", "de", "https://a.example/de"),
            link("gs1:epil", "fr-CH", "https://a.example/fr"),
            link("gs1:pip", "", "https://a.example/pip"),
        ];
        let href = |t: &str, al: &str| choose(&links, t, al).map(|l| l.href.as_str());
        assert_eq!(href("gs1:epil", "fr-CH, de;q=0.5"), Some("https://a.example/fr"));
        assert_eq!(href("gs1:epil", "fr"), Some("https://a.example/fr"));
        assert_eq!(href("gs1:epil", "en, de-AT;q=0.8"), Some("https://a.example/de"));
        assert_eq!(href("gs1:epil", ""), Some("https://a.example/de"));
        assert_eq!(href("gs1:pip", "de"), Some("https://a.example/pip"));
        assert_eq!(href("gs1:smpc", "de"), None);
    }

    #[test]
    fn a_linkset_groups_links_by_type_under_its_anchor() {
        let links = [
            link("gs1:epil", "de", "https://a.example/de"),
            link("gs1:epil", "fr", "https://a.example/fr"),
            link("gs1:pip", "", "https://a.example/pip"),
        ];
        let set = linkset("https://verifier.example/01/09506000134352", &links);
        let context = &set["linkset"][0];
        assert_eq!(context["anchor"], "https://verifier.example/01/09506000134352");
        assert_eq!(context["https://gs1.org/voc/epil"].as_array().unwrap().len(), 2);
        assert_eq!(context["https://gs1.org/voc/epil"][1]["hreflang"], json!(["fr"]));
        assert_eq!(
            context["https://gs1.org/voc/pip"][0],
            json!({ "href": "https://a.example/pip" })
        );
    }
}
