//! What only tests may do to the store (behind the `test-support` feature, which only dev-dependencies enable).

use crate::error::Result;
use crate::store::Store;

impl Store {
    /// Empties the database (tests of the rebuild-from-log path).
    pub async fn flush_all_for_tests(&self) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("FLUSHDB").query_async::<()>(&mut con).await?;
        Ok(())
    }
}
