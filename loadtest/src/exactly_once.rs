//! The exactly-once check: every acknowledged event id appears on the blocks topic once, accepted or rejected.

use std::collections::HashMap;

use pedigree_core::Hash;
use pedigree_core::pb::RejectCode;

use crate::report::ExactlyOnce;
use crate::watcher::Seen;

const EXAMPLES: usize = 5;

pub fn check(acked: &[Hash], seen: &HashMap<Hash, Seen>) -> ExactlyOnce {
    let mut out = ExactlyOnce {
        acked: acked.len() as u64,
        ..ExactlyOnce::default()
    };
    for id in acked {
        match seen.get(id) {
            None => {
                out.lost += 1;
                if out.examples.len() < EXAMPLES {
                    out.examples.push(format!("lost {}", hex::encode(id)));
                }
            }
            Some(s) if s.count > 1 => {
                out.duplicated += 1;
                if out.examples.len() < EXAMPLES {
                    out.examples.push(format!("{}x {}", s.count, hex::encode(id)));
                }
            }
            Some(s) => {
                out.sealed_once += 1;
                if let Some(code) = s.rejected {
                    out.rejected += 1;
                    let name = RejectCode::try_from(code).map_or_else(|_| code.to_string(), |c| c.as_str_name().into());
                    *out.rejected_by_code.entry(name).or_default() += 1;
                }
            }
        }
    }
    out.ok = out.lost == 0 && out.duplicated == 0;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn counts_lost_duplicated_and_rejected() {
        let seen_once = Seen {
            first: Instant::now(),
            count: 1,
            rejected: None,
        };
        let seen: HashMap<Hash, Seen> = [
            ([1; 32], seen_once),
            ([2; 32], Seen { count: 2, ..seen_once }),
            (
                [3; 32],
                Seen {
                    rejected: Some(7),
                    ..seen_once
                },
            ),
        ]
        .into();
        let out = check(&[[1; 32], [2; 32], [3; 32], [4; 32]], &seen);
        assert_eq!(
            (out.acked, out.sealed_once, out.lost, out.duplicated, out.rejected),
            (4, 2, 1, 1, 1)
        );
        assert_eq!(out.rejected_by_code["REJECT_CODE_NOT_HOLDER"], 1);
        assert!(!out.ok);
        assert!(check(&[[1; 32]], &seen).ok);
    }
}
