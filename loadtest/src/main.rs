//! `pedigree-loadtest`: placeholder while the crate is being written.
fn main() {}
