//! Redis ACL users: one per service, each allowed only the commands the store sends for it and only the keys it
//! needs, so that the sequencer is the only writer of ledger state.
//!
//! - `sequencer`: the reads, the block-write script (EVALSHA, SCRIPT LOAD, and the SET, HSET, HDEL, APPEND and DEL
//!   the script runs: Redis checks a script's commands against the user that runs it; the layout upgrade runs APPEND,
//!   SET and DEL too), on every key.
//! - `custody`: the reads (the registry), and SET on `pending:*` only (markers of acknowledged but not yet sealed
//!   events, `SET pending:<id> .. PX ..`).
//! - `verifier`: the reads, SET on `auth:nonce:*` (replay protection of authentication nonces,
//!   `SET auth:nonce:<n> .. NX PX ..`), and on `alert:*` and `alerts:*` the idempotent writes of its fold of the
//!   alerts log (`HSETNX`, `ZADD NX`, `SET alerts:folded`) and `ZRANGEBYSCORE` to list them.
//! - `default`: off.
//!
//! No user may run administrative or dangerous commands, Pub/Sub, or any command not listed. [`acl_file`] writes the
//! file Redis loads (`aclfile`); `helm/pedigree/files/users.acl` is this file with placeholders for the password
//! hashes (a test keeps the two equal).

use std::fmt;

/// Commands every service's reads send (see `reads.rs`, `registry.rs`), and what connecting needs (SELECT of a
/// database other than 0; PING for readiness; INFO for the eviction policy checked at start). MULTI/EXEC wrap the
/// registry's atomic read.
const READS: &str =
    "+get +mget +hget +hmget +hgetall +exists +lrange +getrange +strlen +multi +exec +discard +ping +select +info";

/// One service's Redis user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RedisUser {
    Sequencer,
    Custody,
    Verifier,
}

impl RedisUser {
    pub const ALL: [RedisUser; 3] = [RedisUser::Sequencer, RedisUser::Custody, RedisUser::Verifier];

    /// The ACL user name.
    pub fn name(self) -> &'static str {
        match self {
            RedisUser::Sequencer => "sequencer",
            RedisUser::Custody => "custody",
            RedisUser::Verifier => "verifier",
        }
    }

    /// Key patterns: `%R~` read-only, `%RW~` read and write.
    fn keys(self) -> &'static str {
        match self {
            RedisUser::Sequencer => "%RW~*",
            RedisUser::Custody => "%R~* %RW~pending:*",
            RedisUser::Verifier => "%R~* %RW~auth:nonce:* %RW~alert:* %RW~alerts:*",
        }
    }

    /// Commands beyond [`READS`].
    fn writes(self) -> &'static str {
        match self {
            RedisUser::Sequencer => "+evalsha +script|load +set +hset +hdel +append +del",
            RedisUser::Custody => "+set",
            RedisUser::Verifier => "+set +hsetnx +zadd +zrangebyscore",
        }
    }

    /// The ACL rules of the user after its password: keys, channels (none), commands.
    pub fn rules(self) -> String {
        format!(
            "resetkeys {} resetchannels -@all {READS} {}",
            self.keys(),
            self.writes()
        )
    }

    /// The user's line of an ACL file; `password` is a password rule: `>cleartext` or `#<sha256 hex>`.
    pub fn acl_line(self, password: &str) -> String {
        format!("user {} on {password} {}", self.name(), self.rules())
    }
}

impl fmt::Display for RedisUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An ACL file (Redis `aclfile`, which allows no comments): `default` off, then each service's user with the
/// password rule `password(user)` gives it (`>cleartext` or `#<sha256 hex>`).
pub fn acl_file(password: impl Fn(RedisUser) -> String) -> String {
    let mut file = String::from("user default off\n");
    for user in RedisUser::ALL {
        file.push_str(&user.acl_line(&password(user)));
        file.push('\n');
    }
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template shipped with the chart is what [`acl_file`] writes, with placeholders for the hashes.
    #[test]
    fn the_shipped_template_is_the_generated_file() {
        let template = include_str!("../../../helm/pedigree/files/users.acl");
        let generated = acl_file(|u| format!("#{}_PASSWORD_SHA256", u.name().to_uppercase()));
        assert_eq!(template, generated, "regenerate helm/pedigree/files/users.acl");
    }

    #[test]
    fn only_the_sequencer_writes_ledger_keys() {
        assert!(RedisUser::Sequencer.rules().contains("%RW~*"));
        for user in [RedisUser::Custody, RedisUser::Verifier] {
            let rules = user.rules();
            assert!(!rules.contains("%RW~* "), "{rules}");
            let commands: Vec<&str> = rules.split(' ').collect();
            assert!(
                !rules.contains("eval") && !commands.contains(&"+hset") && !rules.contains("@write"),
                "{rules}"
            );
            // Nobody but the sequencer writes ledger keys: a reader writes only its own patterns.
            let writable: Vec<&str> = commands.iter().filter_map(|c| c.strip_prefix("%RW~")).collect();
            for pattern in writable {
                assert!(
                    ["pending:*", "auth:nonce:*", "alert:*", "alerts:*"].contains(&pattern),
                    "{user}: {pattern}"
                );
            }
        }
    }
}
