//! The `pedigree.v1` wire contract: protobuf messages and gRPC services generated from `proto/`.
//!
//! Generated code only; meaning and validation live in `pedigree-core`.

#![forbid(unsafe_code)]
#![allow(clippy::all, clippy::pedantic)]

/// Messages and services of package `pedigree.v1`.
pub mod v1 {
    tonic::include_proto!("pedigree.v1");
}

/// Encoded `FileDescriptorSet` of every pedigree proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pedigree_descriptor.bin"));
